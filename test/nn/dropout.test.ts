// Dropout is random, so it is checked by its statistics rather than against PyTorch's draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';

test('Dropout zeroes about p of the inputs in train mode and scales the rest by 1/(1-p)', () => {
  const drop = new nn.Dropout(0.3);
  const out = drop.forward(torch.ones([100000])).toNumbers();
  const zeros = out.filter((v) => v === 0).length / out.length;
  assert.ok(Math.abs(zeros - 0.3) < 0.01, `zero fraction ${zeros}`);
  assert.ok(out.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
});

test('Dropout is the identity in eval mode and rejects p outside [0, 1]', () => {
  const x = torch.randn([1000]);
  assert.deepEqual(new nn.Dropout(0.9).eval().forward(x).toNumbers(), x.toNumbers());
  assert.throws(() => new nn.Dropout(1.5), /p must be in \[0, 1\]/);
});
