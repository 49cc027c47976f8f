// The attack losses against their PyTorch transcriptions: values and the
// gradients an attack follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';

const logits = (): ReturnType<typeof torch.randn> => {
  torch.manualSeed(1);
  return torch.randn([5, 4]).mul(3);
};
const y = torch.tensor(new BigInt64Array([0n, 3n, 1n, 2n, 3n]));

test('margin z_y - max_{j != y} z_j, summed CE, and the attack objectives, with gradients, equal PyTorch', () => {
  const z = logits().requiresGrad_();
  const margin = attacks.marginLoss(z, y);
  const [marginGrad] = torch.grad(attacks.attackObjective('margin', z, y), z);
  const [ceGrad] = torch.grad(attacks.attackObjective('ce', z, y), z);
  const ref = pytorch('attacks.py', 'margin_and_ce', { z: z.detach(), y });
  assertClose(margin, ref['margin']!, { what: 'margin' });
  assertClose(marginGrad!, ref['margin_grad']!, { what: 'margin objective grad' });
  assertClose(attacks.crossEntropySum(z, y), ref['ce']!, { what: 'ce sum' });
  assertClose(ceGrad!, ref['ce_grad']!, { what: 'ce grad' });
  assert.ok(margin.toNumbers().some((m) => m < 0) && margin.toNumbers().some((m) => m > 0), 'both signs of the margin are exercised');
});

test('KL to a reference: sum p_ref (log(p_ref + 1e-5) - log_softmax(z)), value and gradient', () => {
  const z = logits().requiresGrad_();
  const ref = torch.randn([5, 4]).softmax(1);
  const kl = attacks.klToReference(ref, z);
  const [g] = torch.grad(kl, z);
  const py = pytorch('attacks.py', 'kl_to_reference', { z: z.detach(), p: ref });
  assertClose(kl, py['kl']!, { what: 'kl' });
  assertClose(g!, py['grad']!, { what: 'kl grad' });
});
