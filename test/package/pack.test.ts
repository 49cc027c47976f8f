// The package as a dependency: what `npm pack` ships is what a user needs
// (compiled library, addon sources and their build script, sources behind the
// source maps, README, LICENSE) and nothing of the development tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;

/** The paths `npm pack` would put in the tarball (without running the build). */
function packedFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Set((JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
}

const files = packedFiles();

test('the package ships the library, the addon build and the documents, and no tests, benchmarks or experiments', () => {
  for (const needed of [
    'package.json',
    'README.md',
    'LICENSE',
    'binding.gyp',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/cli/main.js',
  ]) {
    assert.ok(files.has(needed), `${needed} is not packed`);
  }
  const strays = [...files].filter((f) => /^(dist\/)?(test|bench|experiments)\//.test(f) || f.startsWith('dist-') || f.endsWith('.tgz'));
  assert.deepEqual(strays, []);
});

test('everything the install step compiles and runs is packed', () => {
  const gyp = readFileSync(join(ROOT, 'binding.gyp'), 'utf8');
  const sources = [...gyp.matchAll(/"(native\/[^"]+)"/g)].map((m) => m[1]!);
  const scripts = [...gyp.matchAll(/node (scripts\/[^ ")]+)/g)].map((m) => m[1]!);
  assert.ok(sources.length > 0 && scripts.length > 0, 'binding.gyp lists sources and scripts');
  const headers = sources.flatMap((source) =>
    [...readFileSync(join(ROOT, source), 'utf8').matchAll(/#include "([^"]+)"/g)].map((m) => normalize(join(dirname(source), m[1]!))),
  );
  for (const f of [...sources, ...headers, ...scripts]) {
    assert.ok(files.has(f), `${f} is used by the install step but not packed`);
  }
  // The engine's error message sends users to this script when the addon is missing.
  assert.ok(files.has('scripts/setup-system.sh'));
});

test('every source map points at sources that are packed', () => {
  const maps = [...files].filter((f) => f.endsWith('.map'));
  assert.ok(maps.length > 0 || ![...files].some((f) => f.endsWith('.js')), 'maps ship with the code or not at all');
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as { sources: string[] };
    for (const source of sources) {
      const path = normalize(join(dirname(map), source));
      assert.ok(files.has(path), `${map} points at ${path}, which is not packed`);
    }
  }
});

test('every relative import of the packed code resolves inside the package', () => {
  for (const file of [...files].filter((f) => f.startsWith('dist/') && f.endsWith('.js'))) {
    for (const [, spec] of readFileSync(join(ROOT, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      const target = normalize(join(dirname(file), spec!));
      assert.ok(files.has(target), `${file} imports ${spec}, which is not packed`);
    }
  }
});

test('license and platform are declared', () => {
  assert.equal(manifest.license, 'MIT');
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n/);
  assert.deepEqual(manifest.os, ['linux']);
});
