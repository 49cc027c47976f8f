// A small fuzz budget in the normal test run: every parser of untrusted files
// gets mutated valid inputs and must return or throw an Error naming its file,
// without crashing the process or hanging. `npm run fuzz` runs the long budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from './harness.js';
import { BROKEN_TARGETS, FUZZ_TARGETS } from './targets.js';

// Native targets pay for loading libtorch per worker, so they get fewer inputs.
const BUDGET = { pure: 60, native: 20 };
// A watchdog, not a speed test: generous, because the machine may be busy.
const INPUT_TIMEOUT_MS = 20_000;

for (const target of FUZZ_TARGETS) {
  test(`fuzz ${target.name}: only Errors naming the file, no crash, no hang`, async () => {
    const iterations = target.native ? BUDGET.native : BUDGET.pure;
    const report = await fuzz(target, { seed: 20261202, iterations, inputTimeoutMs: INPUT_TIMEOUT_MS, startTimeoutMs: 120_000 });
    assert.deepEqual(report.findings, []);
    // The mutations must produce both refusals and accepted inputs, or they test little.
    const refused = Object.values(report.errors).reduce((a, b) => a + b, 0);
    if (target.mayThrow !== false)
      assert.ok(
        refused > 0 && refused < iterations,
        `${target.name}: ${refused} of ${iterations} inputs refused; the mutations should produce both`,
      );
  });
}

test('the harness catches non-Error throws, errors not naming the file, hangs and crashes, and goes on after each', async () => {
  const expected: Record<string, RegExp> = {
    'broken-throws-string': /^threw a non-Error: string a string/,
    'broken-unnamed-error': /^error does not name the file: Error: no file named here/,
    'broken-hangs': /^hang: input \d ran longer than 1000 ms/,
    'broken-crashes': /^crash: the worker exited with SIGABRT/,
  };
  for (const target of BROKEN_TARGETS) {
    const report = await fuzz(target, { seed: 1, iterations: 2, inputTimeoutMs: 1000, startTimeoutMs: 120_000 });
    assert.deepEqual(
      report.findings.map((f) => f.input),
      [0, 1],
      target.name,
    );
    for (const f of report.findings) assert.match(f.problem, expected[target.name]!, target.name);
  }
});
