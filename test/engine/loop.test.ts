// The loop idiom (torch.iterate) and what scopes search: the state of step k
// frees step k - 1's, early stops, in-place states, errors, and tensors held
// in class instances survive a scope like those in plain objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { settledTensorCount } from '../attacks/fixtures.js';

test('iterate keeps only the current state alive: each step frees the previous state and its own temporaries', () => {
  const seen: Tensor[] = [];
  const scratch: Tensor[] = [];
  const result = torch.tidy(() => {
    const final = torch.iterate({ value: torch.zeros([2]), count: 0 }, 4, (s, k) => {
      seen.push(s.value);
      const temporary = s.value.add(1);
      scratch.push(temporary);
      // While step k runs, the state of step k - 1 is already gone.
      if (k >= 2) assert.equal(seen[k - 2]!.isDisposed, true, `state ${k - 2} freed by step ${k}`);
      return { value: temporary.mul(1), count: s.count + 1 };
    });
    assert.equal(final.value.isDisposed, false);
    return final;
  });
  assert.deepEqual(result.value.toNumbers(), [4, 4]);
  assert.equal(result.count, 4);
  assert.ok(
    seen.every((t) => t.isDisposed),
    'every earlier state was freed, the initial one included',
  );
  assert.ok(
    scratch.every((t) => t.isDisposed),
    'every temporary was freed',
  );
});

test('iterate: STOP ends the loop with the state it was given; a state updated in place stays alive', () => {
  const total = torch.zeros([1]);
  const steps: number[] = [];
  const final = torch.iterate({ total }, 10, (s, k) => {
    if (k === 3) return torch.STOP;
    steps.push(k);
    s.total.add_(1);
    return s;
  });
  assert.deepEqual(steps, [0, 1, 2]);
  assert.equal(final.total, total);
  assert.equal(total.isDisposed, false);
  assert.deepEqual(total.toNumbers(), [3]);
  assert.throws(() => torch.iterate(total, 1.5, (s) => s), /iterate: steps must be a non-negative integer, got 1.5/);
});

test('iterate: a kept tensor in the state is never disposed; an error frees what the steps made and rethrows', () => {
  const kept = torch.keep(torch.ones([1]));
  const made: Tensor[] = [];
  assert.throws(
    () =>
      torch.iterate([kept], 5, (s, k) => {
        if (k === 2) throw new Error('boom');
        const next = torch.ones([1]);
        made.push(next);
        return [next];
      }),
    /boom/,
  );
  assert.equal(kept.isDisposed, false);
  assert.ok(made.every((t) => t.isDisposed));
  kept.dispose();
});

/** A class holding a tensor in a field, as attack bookkeeping does. */
class Holder {
  inner = { list: [] as Tensor[] };
  constructor(readonly tensor: Tensor) {}
}

test('tidy keeps tensors reachable through class instances (and Sets), not only through plain objects', () => {
  let scratch: Tensor | undefined;
  const holder = torch.tidy(() => {
    scratch = torch.ones([2]);
    const h = new Holder(scratch.add(1));
    h.inner.list.push(scratch.mul(3));
    return h;
  });
  assert.equal(scratch!.isDisposed, true);
  assert.deepEqual(holder.tensor.toNumbers(), [2, 2]);
  assert.deepEqual(holder.inner.list[0]!.toNumbers(), [3, 3]);
  const set = torch.tidy(() => new Set([torch.ones([1])]));
  assert.equal([...set][0]!.isDisposed, false);
  torch.dispose([holder, set]);
  assert.equal(holder.tensor.isDisposed, true);
  assert.equal([...set][0]!.isDisposed, true);
});

test('a class instance in a loop state: a tensor it replaces is freed by the loop', () => {
  const replaced: Tensor[] = [];
  const final = torch.iterate(new Holder(torch.zeros([1])), 3, (s) => {
    replaced.push(s.tensor);
    return new Holder(s.tensor.add(1));
  });
  assert.deepEqual(final.tensor.toNumbers(), [3]);
  assert.ok(replaced.every((t) => t.isDisposed));
});

test('every loop state and temporary is released: the live handle count comes back to its start', () => {
  const before = settledTensorCount();
  const x = torch.rand([4, 3]);
  const final = torch.iterate({ a: x.clone(), b: x.clone() }, 50, (s) => ({ a: s.a.add(s.b).mul(0.5), b: s.b }));
  assert.equal(torch.memory().numTensors, before + 3, 'x and the final a and b');
  torch.dispose([x, final]);
  assert.equal(torch.memory().numTensors, before);
});
