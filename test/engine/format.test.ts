// console.log(tensor) prints values laid out as PyTorch prints them, then shape,
// dtype and device. PyTorch's own repr of the same tensors is the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { torch } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';
import { collectGarbage } from '../helpers/gc.js';

test('values print as PyTorch prints them (layout, 4 decimals, summarised past 1,000 elements), then shape, dtype and device', () => {
  torch.manualSeed(3);
  const tensors = [
    torch.tensor([
      [0.1, 0.25],
      [-3, 0.4],
    ]),
    torch.zeros([2, 2, 3]),
    torch.rand([40, 40]),
    torch.rand([2, 30, 30]),
    torch.tensor([1, -20, 300], { dtype: 'int64' }),
    torch.tensor(3.5),
  ];
  const ref = pytorch('printing.py', 'reprs', { tensors }) as unknown as { reprs: string[] };
  tensors.forEach((t, i) => {
    const ours = inspect(t);
    const suffix = `, shape=[${t.shape.join(', ')}], dtype=${t.dtype}, device=cpu)`;
    assert.ok(ours.endsWith(suffix), ours);
    // PyTorch adds ", dtype=..." only for non-default dtypes; the values are what is compared.
    const theirs = ref.reprs[i]!.replace(/, dtype=torch\.\w+\)$/, ')');
    assert.equal(ours.slice(0, -suffix.length) + ')', theirs, `tensor ${i}`);
  });
});

test('a disposed tensor prints as such, printing creates no live handle, and requiresGrad is shown', () => {
  const t = torch.rand([50, 50]);
  // The handles the test above left to the collector go now, not while this one counts.
  collectGarbage();
  const before = torch.memory().numTensors;
  inspect(t);
  assert.equal(torch.memory().numTensors, before);
  assert.match(inspect(torch.ones([1]).requiresGrad_()), /requiresGrad=true\)$/);
  t.dispose();
  assert.equal(inspect(t), 'tensor(<disposed>)');
});
