// Saved adversarial sets: what is written comes back, the transfer attack
// replays it through the protocol, and a set that does not fit is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir.js';
import { torch, io } from '../../src/index.js';
import { loadAdversarialSet, saveAdversarialSet, transferAttack } from '../../src/eval/adversarialSet.js';
import { evaluatePoints } from '../../src/eval/evaluate.js';
import { fixture, SIDE } from '../attacks/fixtures.js';

test('a saved set comes back; the transfer attack breaks on the saved model exactly the points the attack broke', () => {
  const { target, guidance, x } = fixture();
  const y = torch.noGrad(() => target.eval().forward(x).argmax(1)); // every point starts correct
  const o = { epsilon: 0.1, norm: 'linf', batchSize: 4, seed: 0, device: 'cpu', keepAdversarial: true } as const;
  const attacked = evaluatePoints(target, x, y, ['pgd5'], o);
  assert.ok(
    attacked.robust.some((r) => !r),
    'pgd5 breaks some points',
  );
  const path = join(tempDir('d2r-set-'), 'set.safetensors');
  const index = torch.tensor(BigInt64Array.from([10n, 11n, 12n, 13n, 14n, 15n]));
  const facts = { dataset: 'fashion-mnist', split: 'test', norm: 'linf', epsilon: 0.1, attacks: ['pgd5'] } as const;
  saveAdversarialSet(path, {
    ...facts,
    attacks: [...facts.attacks],
    adversarial: attacked.adversarial!,
    label: y,
    index,
    brokenBy: attacked.brokenBy,
  });
  const set = loadAdversarialSet(path, { dataset: 'fashion-mnist', imageShape: [1, SIDE, SIDE] });
  assert.deepEqual(set.brokenBy, attacked.brokenBy);
  assert.deepEqual(set.index.toNumbers(), [10, 11, 12, 13, 14, 15]);
  assert.deepEqual(set.adversarial.toNumbers(), attacked.adversarial!.toNumbers());
  const replay = evaluatePoints(target, x, y, [], { ...o, extraAttacks: [transferAttack(set)] });
  assert.deepEqual(replay.robust, attacked.robust);
  assert.deepEqual(
    replay.attacks.map((a) => a.name),
    ['transfer'],
  );
  // Another model: the same points, its own verdicts.
  const other = evaluatePoints(guidance, x, y, [], { ...o, extraAttacks: [transferAttack(set)] });
  assert.equal(other.robust.length, 6);

  assert.throws(
    () => loadAdversarialSet(path, { dataset: 'cifar10', imageShape: [1, SIDE, SIDE] }),
    /made from data set 'fashion-mnist', expected 'cifar10'/,
  );
  assert.throws(
    () => loadAdversarialSet(path, { dataset: 'fashion-mnist', imageShape: [3, SIDE, SIDE] }),
    /images of shape \[1, 8, 8\], expected \[3, 8, 8\]/,
  );
  const plain = join(tempDir('d2r-set-'), 'weights.safetensors');
  io.saveSafetensors(plain, { w: torch.zeros([2]) });
  assert.throws(
    () => loadAdversarialSet(plain, { dataset: 'fashion-mnist', imageShape: [1, SIDE, SIDE] }),
    /not an adversarial set written by d2r eval --save-adversarial/,
  );
  saveAdversarialSet(path, { ...facts, attacks: [], adversarial: x, label: y.narrow(0, 0, 3), index, brokenBy: attacked.brokenBy });
  assert.throws(
    () => loadAdversarialSet(path, { dataset: 'fashion-mnist', imageShape: [1, SIDE, SIDE] }),
    /label should be int64 \[6\], found int64 \[3\]/,
  );
  assert.throws(() => loadAdversarialSet(path + '.missing', { dataset: 'fashion-mnist', imageShape: [1, SIDE, SIDE] }), /no such file/);
});
