import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';

test('oracle round trip: softmax matches PyTorch', () => {
  const x = torch.randn([4, 5]);
  const ref = pytorch(`out['y'] = torch.softmax(inp['x'], 1)`, { x });
  assertClose(x.softmax(1), ref['y']!);
  assert.equal(x.shape.length, 2);
});
