// Layers import only downward: a file under src/ may import its own layer and
// the layers below it, never one above. The order is the architecture's:
// engine < io, nn, optim, data < models < attacks < methods < eval < train < report < cli
// (the c10d collectives are part of the engine: src/engine/distributed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each layer's rank; layers of one rank (io, nn, optim, data) may not import one another. */
const RANK: Record<string, number> = {
  engine: 0,
  io: 1,
  nn: 1,
  optim: 1,
  data: 1,
  models: 2,
  attacks: 3,
  methods: 4,
  eval: 5,
  train: 6,
  report: 7,
  cli: 8,
};

// The tests run from dist/test/layers; the sources are at the repository root.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The relative module paths a file imports or re-exports (static and dynamic). */
export function importedPaths(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found.filter((p) => p.startsWith('.'));
}

/** The layer of a path under src/ (its first folder), or null for files at the top (src/index.ts). */
function layerOf(path: string): string | null {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? parts[0]! : null;
}

/** Every import of a layer above the importing file's own, as "file -> import". */
export function upwardImports(files: { path: string; text: string }[]): string[] {
  const problems: string[] = [];
  for (const { path, text } of files) {
    const from = layerOf(path);
    if (from === null) continue; // src/index.ts re-exports the public API of every layer
    assert.ok(from in RANK, `${relative(ROOT, path)}: folder '${from}' has no place in the layer order; add it to RANK`);
    for (const spec of importedPaths(text)) {
      const to = layerOf(resolve(dirname(path), spec));
      if (to === null || to === from) continue;
      assert.ok(to in RANK, `${relative(ROOT, path)} imports ${spec}, outside the known layers`);
      if (RANK[to]! >= RANK[from]!) problems.push(`${relative(ROOT, path)} (${from}) -> ${spec} (${to})`);
    }
  }
  return problems;
}

test('no file under src/ imports a layer above its own (or a sibling layer of the same rank)', () => {
  const files = sourceFiles(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  assert.ok(files.length > 50, `found only ${files.length} source files under ${SRC}`);
  assert.deepEqual(upwardImports(files), []);
});

test('the check finds an upward import, a re-export and a sibling import', () => {
  const file = (layer: string, text: string): { path: string; text: string } => ({ path: join(SRC, layer, 'x.ts'), text });
  assert.deepEqual(
    upwardImports([
      file('train', "import { Progress } from '../cli/progress.js';\nimport { z } from 'zod';"),
      file('methods', "export type { TrainConfig } from '../train/config.js';"),
      file('io', "import type { Module } from '../nn/index.js';"),
      file('cli', "import { train } from '../train/trainer.js';"),
      file('eval', "import { pgd } from '../attacks/pgd.js';\nimport { x } from './y.js';"),
    ]),
    [
      'src/train/x.ts (train) -> ../cli/progress.js (cli)',
      'src/methods/x.ts (methods) -> ../train/config.js (train)',
      'src/io/x.ts (io) -> ../nn/index.js (nn)',
    ],
  );
});
