// The long fuzz run: `npm run fuzz` (after a build), or
//   node dist/test/fuzz/run.js [--iterations N] [--seed S] [--target NAME] [--timeout-ms T]
//   node dist/test/fuzz/run.js --target NAME --seed S --only I     (rerun one input, keeping its files)
// FUZZ_ITERATIONS and FUZZ_SEED set the defaults. Exits 1 when any input crashed,
// hung, threw a non-Error or threw an error not naming its file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzz } from './harness.js';
import { FUZZ_TARGETS, fuzzTarget } from './targets.js';

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}: expected a non-negative integer, found '${text}'`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string', multiple: true },
      'timeout-ms': { type: 'string' },
      only: { type: 'string' },
    },
  });
  const iterations = positiveInteger('--iterations', values.iterations ?? process.env.FUZZ_ITERATIONS, 2000);
  const seed = positiveInteger('--seed', values.seed ?? process.env.FUZZ_SEED, 1);
  const inputTimeoutMs = positiveInteger('--timeout-ms', values['timeout-ms'], 10_000);
  const targets = values.target?.map(fuzzTarget) ?? FUZZ_TARGETS;
  if (values.only !== undefined) {
    const input = positiveInteger('--only', values.only, 0);
    const dir = mkdtempSync(join(tmpdir(), 'd2r-fuzz-only-'));
    const worker = fileURLToPath(new URL('./worker.js', import.meta.url));
    for (const target of targets) {
      console.log(`${target.name} seed ${seed} input ${input}: files in ${join(dir, String(input))}`);
      const r = spawnSync(process.execPath, [worker, target.name, String(seed), String(input), String(input + 1), dir, 'keep'], {
        stdio: 'inherit',
      });
      if (r.status !== 0) console.log(`the worker exited with ${r.signal ?? `code ${r.status}`}`);
    }
    return 0;
  }
  let failed = false;
  for (const target of targets) {
    const started = Date.now();
    const report = await fuzz(target, { seed, iterations, inputTimeoutMs, startTimeoutMs: 120_000 });
    const refused = Object.values(report.errors).reduce((a, b) => a + b, 0);
    console.log(
      `${target.name}: ${report.inputs} inputs (seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s, ${refused} refused, ${report.findings.length} findings`,
    );
    const kinds = Object.entries(report.errors).sort((a, b) => b[1] - a[1]);
    for (const [kind, n] of kinds.slice(0, 12)) console.log(`  ${String(n).padStart(6)}  ${kind}`);
    for (const f of report.findings) {
      failed = true;
      console.log(
        `  FINDING input ${f.input}: ${f.problem}\n    rerun: node dist/test/fuzz/run.js --target ${f.target} --seed ${f.seed} --only ${f.input}`,
      );
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
