// The reference evaluation protocol (the official D2R evaluation's PGD and CW,
// a per-point early stop) against a PyTorch transcription of the official rule
// (test/oracles/protocol.py), and that it is a different attack from ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, attacks } from '../../src/index.js';
import { pgdFamilyOptions, planAttacks } from '../../src/eval/attackNames.js';
import { evaluatePoints } from '../../src/eval/evaluate.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture } from '../attacks/fixtures.js';
import { buildReport } from '../../src/report/index.js';
import { makeRun } from '../report/fixtures.js';

const EPSILON = 0.3;

for (const [name, loss] of [
  ['pgd20', 'ce'],
  ['cw20', 'margin'],
] as const) {
  test(`${name} under the reference protocol moves only the points still classified correctly, as the official code does`, () => {
    const { target, x, y, inputs } = fixture();
    const options = pgdFamilyOptions(name, EPSILON, 'linf', 'reference')!;
    assert.deepEqual(
      { ...options },
      { epsilon: EPSILON, stepSize: EPSILON / 4, steps: 20, norm: 'linf', loss, randomStart: 'uniform', earlyStop: true },
    );
    const init = attacks.project(
      x.add(
        torch
          .rand(x.shape)
          .mul(2 * EPSILON)
          .sub(EPSILON),
      ),
      x,
      EPSILON,
      'linf',
    );
    const ref = pytorch('protocol.py', 'reference_attack', { ...inputs, init, loss, eps: EPSILON, step: options.stepSize, steps: 20 });
    const moved = ref['moved']!.data;
    // The fixture must exercise the rule: some point stops early, some point never stops.
    assert.ok(
      moved.some((m) => m < 20),
      `no point stopped early (moved ${moved})`,
    );
    const reference = attacks.pgd(target, x, y, { ...options, init });
    assertClose(reference, ref['adv']!, { atol: 1e-5, rtol: 0, what: `${name} reference protocol` });
    const ours = attacks.pgd(target, x, y, { ...pgdFamilyOptions(name, EPSILON, 'linf', 'ours')!, init });
    assert.ok(ours.sub(reference).abs().amax().item() > 1e-3, 'ours keeps moving fooled points, the reference does not');
  });
}

test('fgsm under the reference protocol starts at a uniform random point and steps by eps; ours steps from x', () => {
  assert.deepEqual(
    { ...pgdFamilyOptions('fgsm', 0.1, 'linf', 'reference')! },
    { epsilon: 0.1, stepSize: 0.1, steps: 1, norm: 'linf', randomStart: 'uniform', earlyStop: true },
  );
  assert.equal(pgdFamilyOptions('fgsm', 0.1, 'linf')!.randomStart, 'none');
  assert.equal(pgdFamilyOptions('autoattack', 0.1, 'linf', 'reference'), null);
});

test('evaluatePoints runs the protocol it is given', () => {
  const { target, x, y } = fixture();
  target.eval();
  const run = (protocol: 'ours' | 'reference') =>
    evaluatePoints(target, x, y, ['pgd5'], {
      epsilon: EPSILON,
      norm: 'linf',
      device: 'cpu',
      batchSize: 6,
      seed: 3,
      protocol,
      keepAdversarial: true,
    });
  // The protocol attacks the clean-correct points, each batch from the seed.
  const correct = target.forward(x).argmax(1).eq(y).toUint8Array();
  const rows = [...correct].flatMap((c, i) => (c ? [i] : []));
  const index = torch.tensor(BigInt64Array.from(rows, BigInt));
  const plan = planAttacks(['pgd5'], { epsilon: EPSILON, norm: 'linf', classes: 10, protocol: 'reference' });
  const expected = attacks.withSeed(3, () =>
    plan.attacks[0]!.run(target, x.indexSelect(0, index), y.indexSelect(0, index), { ids: index, warn: () => {} }),
  );
  const brokenRows = (r: ReturnType<typeof run>): number[] => rows.flatMap((id, k) => (r.brokenBy[id] !== null ? [k] : []));
  const gap = (r: ReturnType<typeof run>): number => {
    const k = torch.tensor(BigInt64Array.from(brokenRows(r), BigInt));
    const ids = torch.tensor(BigInt64Array.from(brokenRows(r), (j) => BigInt(rows[j]!)));
    return r.adversarial!.indexSelect(0, ids).sub(expected.indexSelect(0, k)).abs().amax().item();
  };
  const reference = run('reference');
  assert.ok(brokenRows(reference).length > 0, 'the attack broke some point');
  assert.equal(gap(reference), 0);
  assert.ok(gap(run('ours')) > 1e-3, 'ours is another attack');
});

test("the report's attack table says which protocol the evaluation ran; a file from before the option ran ours", async () => {
  const dir = makeRun({ sweep: false, examples: 0 });
  const page = async (): Promise<string> => readFileSync((await buildReport([dir])).html, 'utf8');
  assert.match(await page(), /protocol ours/);
  const file = join(dir, 'eval.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), protocol: 'reference' }));
  assert.match(await page(), /protocol reference \(the official D2R evaluation/);
});
