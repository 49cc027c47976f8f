// The attack names of d2r eval: the AutoAttack version 'autoattack' stands for,
// and what the L1 threat model and chosen targets rule out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import { planAttacks } from '../../src/eval/attackNames.js';

test("'autoattack' is the version's suite; L1 refuses the PGD family; cw refuses targets", () => {
  const names = (list: string[], o: Partial<Parameters<typeof planAttacks>[1]> = {}) =>
    planAttacks(list, { epsilon: 0.1, norm: 'linf', classes: 10, ...o }).attacks.map((a) => a.name);
  assert.deepEqual(names(['pgd5', 'autoattack'], { version: 'plus' }), ['pgd5', 'apgd-ce', 'apgd-dlr', 'fab', 'square', 'apgd-t', 'fab-t']);
  assert.deepEqual(names(['autoattack'], { norm: 'l1' }), ['apgd-ce', 'apgd-t']);
  assert.throws(
    () => names(['pgd20'], { norm: 'l1' }),
    /attack 'pgd20' has no l1 form; with norm l1 use autoattack or apgd-ce, apgd-dlr, apgd-t/,
  );
  assert.throws(() => names(['fgsm'], { norm: 'l1' }), /attack 'fgsm' has no l1 form/);
  const target = torch.zeros([4], { dtype: 'int64' });
  assert.deepEqual(names(['pgd5', 'apgd-t'], { target }), ['pgd5', 'apgd-t']);
  assert.throws(() => names(['cw5'], { target }), /attack 'cw5' has no targeted form/);
});
