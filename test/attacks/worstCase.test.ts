// The worst-case protocol: still-robust points only, each attack from the
// clean points, per-point verdicts, threat-model checks, and exact resume from
// a state file after an interruption.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/tempDir.js';
import { join } from 'node:path';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { Module } from '../../src/nn/index.js';
import { worstCase, type NamedAttack, type WorstCaseOptions } from '../../src/attacks/worstCase.js';

/** Class 0 for an image with positive mass, class 1 for an all-zero image. */
class MassModel extends Module {
  forward(x: Tensor): Tensor {
    const s = x.flatten(1).sum(1, true);
    return torch.cat([s.sub(0.01), s.neg().add(0.01)], 1);
  }
}

/** Point i: pixel (0, 0) holds (i + 1) / 100 as its id, the rest 0.5; label 0, except `wrong` points labelled 1. */
function points(n: number, wrong: number[] = []): { x: Tensor; y: Tensor } {
  const x = torch.full([n, 1, 3, 3], 0.5);
  const ids = torch
    .arange(1, n + 1)
    .float()
    .div(100);
  const x2 = x.clone();
  x2.select(1, 0).select(1, 0).select(1, 0).copy_(ids);
  const y = torch.tensor(BigInt64Array.from({ length: n }, (_, i) => (wrong.includes(i) ? 1n : 0n)));
  return { x: x2, y };
}

const idsOf = (x: Tensor): number[] => x.select(1, 0).select(1, 0).select(1, 0).mul(100).round().sub(1).toNumbers();

/** Fools (zeroes) the points whose id is in `fools`; records the ids and whether each batch was clean. */
function scripted(name: string, fools: number[], log: { name: string; ids: number[]; clean: boolean }[], failOnCall?: number): NamedAttack {
  let calls = 0;
  return {
    name,
    run(_model, x) {
      if (++calls === failOnCall) throw new Error(`${name} interrupted`);
      const ids = idsOf(x);
      const clean = x.narrow(2, 1, 2).sub(0.5).abs().amax().item() === 0;
      log.push({ name, ids, clean });
      const mask = torch
        .tensor(Uint8Array.from(ids.map((id) => Number(fools.includes(id)))))
        .bool()
        .view([-1, 1, 1, 1]);
      return torch.where(mask, x.mul(0), x);
    },
  };
}

const options = (extra: Partial<WorstCaseOptions> = {}): WorstCaseOptions => ({ batchSize: 3, seed: 0, ...extra });

test('worstCase attacks only still-robust points, each from the clean points, and keeps the per-point worst case', () => {
  const { x, y } = points(8, [2]);
  const log: { name: string; ids: number[]; clean: boolean }[] = [];
  const model = new MassModel().train();
  const r = worstCase(model, x, y, [scripted('a', [0, 5], log), scripted('b', [1, 5, 6], log), scripted('c', [7], log)], {
    ...options(),
    keepAdversarial: true,
  });
  assert.equal(model.training, true, 'mode restored');
  assert.deepEqual(r.cleanCorrect, [true, true, false, true, true, true, true, true]);
  assert.deepEqual(r.robust, [false, false, false, true, true, false, false, false]);
  assert.deepEqual(r.brokenBy, ['a', 'b', null, null, null, 'a', 'b', 'c']);
  assert.deepEqual(
    log.filter((l) => l.name === 'a').flatMap((l) => l.ids),
    [0, 1, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(
    log.filter((l) => l.name === 'b').flatMap((l) => l.ids),
    [1, 3, 4, 6, 7],
  );
  assert.deepEqual(
    log.filter((l) => l.name === 'c').flatMap((l) => l.ids),
    [3, 4, 7],
  );
  assert.ok(
    log.every((l) => l.clean),
    'every attack starts from the clean points',
  );
  assert.deepEqual(
    r.attacks.map((a) => [a.name, a.robustAccuracy]),
    [
      ['a', 5 / 8],
      ['b', 3 / 8],
      ['c', 2 / 8],
    ],
  );
  // The kept adversarial batch holds the attack's output where a point broke, the clean point elsewhere.
  assert.equal(r.adversarial!.select(0, 5).abs().sum().item(), 0);
  assert.deepEqual(r.adversarial!.select(0, 3).toNumbers(), x.select(0, 3).toNumbers());
});

test('worstCase rejects an attack leaving the threat model, and names it', () => {
  const { x, y } = points(4);
  const far: NamedAttack = { name: 'far', run: (_m, xs) => xs.add(0.2).clamp(0, 1) };
  assert.throws(
    () => worstCase(new MassModel(), x, y, [far], options({ threatModel: { norm: 'linf', epsilon: 0.1 } })),
    /attack far left the linf ball: perturbation 0\.2\d* > eps 0\.1/,
  );
  const out: NamedAttack = { name: 'out', run: (_m, xs) => xs.mul(3) };
  assert.throws(
    () => worstCase(new MassModel(), x, y, [out], options({ threatModel: { norm: 'l2', epsilon: 100 } })),
    /attack out left \[0, 1\]/,
  );
  assert.throws(() => worstCase(new MassModel(), x, y, [far, far], options()), /each attack may run once/);
});

test('an evaluation interrupted mid-attack resumes from its state file to the same flags, without redoing finished work', () => {
  const dir = tempDir('d2r-state-');
  const { x, y } = points(10, [4]);
  const suite = (log: { name: string; ids: number[]; clean: boolean }[], failOnCall?: number): NamedAttack[] => [
    scripted('a', [0, 8], log),
    scripted('b', [1, 2, 9], log, failOnCall),
    scripted('c', [3, 6], log),
  ];
  const whole = worstCase(new MassModel(), x, y, suite([]), options());

  const state = { path: join(dir, 'state.json'), key: 'k1' };
  const first: { name: string; ids: number[]; clean: boolean }[] = [];
  assert.throws(() => worstCase(new MassModel(), x, y, suite(first, 2), options({ state })), /b interrupted/);
  assert.ok(existsSync(state.path));
  const saved = JSON.parse(readFileSync(state.path, 'utf8')) as { current: { name: string; batchesDone: number } };
  assert.deepEqual([saved.current.name, saved.current.batchesDone], ['b', 1]);

  const second: { name: string; ids: number[]; clean: boolean }[] = [];
  const resumed = worstCase(new MassModel(), x, y, suite(second), options({ state }));
  assert.equal(resumed.resumed, true);
  assert.deepEqual(resumed.robust, whole.robust);
  assert.deepEqual(resumed.brokenBy, whole.brokenBy);
  assert.deepEqual(
    resumed.attacks.map((a) => [a.name, a.robustAccuracy]),
    whole.attacks.map((a) => [a.name, a.robustAccuracy]),
  );
  assert.equal(second.filter((l) => l.name === 'a').length, 0, 'the finished attack is not run again');
  assert.deepEqual(
    second.filter((l) => l.name === 'b').flatMap((l) => l.ids),
    [5, 6, 7, 9],
    'b continues with its remaining batches',
  );

  assert.throws(
    () => worstCase(new MassModel(), x, y, suite([]), options({ state: { ...state, key: 'k2' } })),
    /was written for a different evaluation/,
  );
  const restarted = worstCase(new MassModel(), x, y, suite([]), options({ state: { ...state, key: 'k2', ifOther: 'restart' } }));
  assert.equal(restarted.resumed, false);
  writeFileSync(state.path, '{"format": "d2r-evaluation-state", "version": 1, "key": "k3", "cleanCorrect": [true]}');
  assert.throws(
    () => worstCase(new MassModel(), x, y, suite([]), options({ state: { ...state, key: 'k3' } })),
    /field cleanCorrect should have 10 entries, found 1/,
  );
  writeFileSync(state.path, '{"format": ');
  assert.throws(() => worstCase(new MassModel(), x, y, suite([]), options({ state })), /state\.json: not valid JSON/);
});
