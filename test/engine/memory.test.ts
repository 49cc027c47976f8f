// Memory scopes: tidy disposes what it does not return, returned tensors move
// to the enclosing scope, keep() opts out, errors clean up, scopes nest. And a
// 5,000-step PGD loop on a functional CNN runs at a flat resident set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { collectGarbage } from '../helpers/gc.js';

test('tidy disposes intermediates and keeps what it returns (arrays, objects, Maps)', () => {
  let scratch: Tensor[] = [];
  const result = torch.tidy(() => {
    const x = torch.ones([3]);
    const y = x.add(1);
    scratch = [x, y];
    return { list: [y.mul(2)], map: new Map([['k', y.sub(1)]]), n: 3 };
  });
  assert.deepEqual(
    scratch.map((t) => t.isDisposed),
    [true, true],
  );
  assert.equal(result.list[0]!.isDisposed, false);
  assert.deepEqual(result.list[0]!.toNumbers(), [4, 4, 4]);
  assert.deepEqual(result.map.get('k')!.toNumbers(), [1, 1, 1]);
});

test('returned tensors move to the parent scope and are disposed when it ends', () => {
  let fromInner: Tensor | undefined;
  let innerScratch: Tensor | undefined;
  const outer = torch.tidy(() => {
    fromInner = torch.tidy(() => {
      innerScratch = torch.zeros([2]);
      return innerScratch.add(5);
    });
    assert.equal(innerScratch!.isDisposed, true, 'the inner scope ended');
    assert.equal(fromInner.isDisposed, false, 'its result lives on in the outer scope');
    return fromInner.sum();
  });
  assert.equal(fromInner!.isDisposed, true, 'the outer scope disposed the moved tensor');
  assert.equal(outer.item(), 10);
});

test('keep() survives every scope until disposed by hand', () => {
  let kept: Tensor | undefined;
  torch.tidy(() =>
    torch.tidy(() => {
      kept = torch.keep(torch.ones([2]));
    }),
  );
  assert.equal(kept!.isDisposed, false);
  torch.dispose({ nested: [kept] });
  assert.equal(kept!.isDisposed, true);
});

test('an error inside tidy disposes everything created in it, nested scopes included, and rethrows', () => {
  const created: Tensor[] = [];
  let kept: Tensor | undefined;
  assert.throws(
    () =>
      torch.tidy(() => {
        created.push(torch.ones([2]));
        kept = torch.keep(torch.ones([2]));
        torch.tidy(() => {
          created.push(torch.zeros([2]));
          throw new Error('boom');
        });
      }),
    /boom/,
  );
  assert.deepEqual(
    created.map((t) => t.isDisposed),
    [true, true],
  );
  assert.equal(kept!.isDisposed, false);
  // The scope stack is intact afterwards: a fresh scope still works.
  const after = torch.tidy(() => torch.ones([1]).add(1));
  assert.equal(after.item(), 2);
});

test('tensors created outside any scope are left alone; tidy rejects async functions', () => {
  const outside = torch.ones([2]);
  torch.tidy(() => outside.add(1));
  assert.equal(outside.isDisposed, false);
  assert.throws(() => torch.tidy(() => Promise.resolve(1)), /must be synchronous/);
});

// ---- flat memory over a long attack loop -------------------------------------------
/** A small CNN as plain tensors: conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu, linear 16*11*11 -> 10. */
function smallCnn(): (x: Tensor) => Tensor {
  const param = (shape: number[], fanIn: number): Tensor =>
    torch.keep(
      torch
        .randn(shape)
        .mul(1 / Math.sqrt(fanIn))
        .requiresGrad_(),
    );
  const w1 = param([8, 1, 3, 3], 9);
  const b1 = param([8], 9);
  const w2 = param([16, 8, 3, 3], 72);
  const b2 = param([16], 72);
  const w3 = param([10, 16 * 11 * 11], 16 * 11 * 11);
  const b3 = param([10], 16 * 11 * 11);
  return (x) => {
    const h1 = torch.maxPool2d(torch.conv2d(x, w1, b1).relu(), 2);
    const h2 = torch.conv2d(h1, w2, b2).relu();
    return torch.linear(h2.flatten(1), w3, b3);
  };
}

test('5,000 PGD steps on a functional CNN keep the resident set flat', () => {
  torch.manualSeed(0);
  const model = smallCnn();
  const x = torch.keep(torch.rand([8, 1, 28, 28]));
  const y = torch.keep(torch.randint(0, 10, [8]));
  const [eps, alpha] = [0.1, 0.01];
  const lower = torch.keep(x.sub(eps).clamp(0, 1));
  const upper = torch.keep(x.add(eps).clamp(0, 1));
  let adv = torch.keep(x.clone());
  const step = (): void => {
    const next = torch.tidy(() => {
      const input = adv.detach().requiresGrad_();
      const [g] = torch.grad(torch.crossEntropy(model(input), y), input);
      return input.detach().add(g!.sign().mul(alpha)).clamp(lower, upper);
    });
    adv.dispose();
    adv = torch.keep(next);
  };
  const lossNow = (): number => torch.tidy(() => torch.noGrad(() => torch.crossEntropy(model(adv), y).item()));
  const cleanLoss = lossNow();
  for (let i = 0; i < 200; i++) step();
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let i = 0; i < 5000; i++) step();
  const seconds = (performance.now() - t0) / 1000;
  const after = process.memoryUsage().rss;
  const growthMb = (after - before) / 2 ** 20;
  console.log(
    `PGD 5,000 steps: RSS ${(before / 2 ** 20).toFixed(1)} MB after warm-up -> ${(after / 2 ** 20).toFixed(1)} MB (growth ${growthMb.toFixed(1)} MB) in ${seconds.toFixed(1)} s`,
  );
  assert.ok(growthMb < 60, `resident set grew by ${growthMb.toFixed(1)} MB`);
  const distance = adv.sub(x).abs().amax().item();
  assert.ok(distance <= eps + 1e-6, `left the eps-ball: ${distance}`);
  assert.ok(adv.amin().item() >= 0 && adv.amax().item() <= 1);
  assert.ok(lossNow() > cleanLoss, 'the attack raised the loss');
});

test('a long synchronous loop frees its tensor handles as it goes (finalizers run during garbage collection)', () => {
  // Before finalizers ran in GC, every handle's native record waited for the
  // event loop: 600,000 short-lived handles held ~200 MB until the loop returned.
  const x = torch.rand([16, 3, 8, 8]);
  const rss = (): number => process.memoryUsage().rss / 1e6;
  const spin = (n: number): void => {
    for (let i = 0; i < n; i++) torch.tidy(() => x.narrow(0, 0, 5).add(1).mul(2).sum());
  };
  spin(50_000);
  const before = rss();
  spin(150_000);
  const growth = rss() - before;
  assert.ok(growth < 60, `resident set grew by ${growth.toFixed(0)} MB over 600,000 handles in one synchronous loop`);
});

// ---- torch.memory(): live handle counts -------------------------------------------------

test('torch.memory() counts each live handle and its bytes; dispose takes them back exactly', () => {
  collectGarbage();
  const start = torch.memory();
  const a = torch.zeros([2, 3]);
  const b = torch.ones([5], { dtype: 'float64' });
  assert.deepEqual(torch.memory(), { numTensors: start.numTensors + 2, numBytes: start.numBytes + 6 * 4 + 5 * 8 });
  const view = a.narrow(0, 0, 1);
  assert.deepEqual(
    torch.memory(),
    { numTensors: start.numTensors + 3, numBytes: start.numBytes + 24 + 40 + 12 },
    'a view is a handle of its own',
  );
  a.dispose();
  a.dispose();
  assert.deepEqual(
    torch.memory(),
    { numTensors: start.numTensors + 2, numBytes: start.numBytes + 40 + 12 },
    'a second dispose changes nothing',
  );
  torch.dispose([b, view]);
  assert.deepEqual(torch.memory(), start);
});

test('torch.memory() is back at its start value after tidy, except for what tidy returns', () => {
  collectGarbage();
  const start = torch.memory();
  const x = torch.rand([4, 4]);
  const kept = torch.tidy(() => {
    const y = x.mul(2).add(1).relu();
    assert.equal(torch.memory().numTensors, start.numTensors + 4);
    return y.sum();
  });
  assert.deepEqual(torch.memory(), { numTensors: start.numTensors + 2, numBytes: start.numBytes + 64 + 4 });
  torch.dispose([x, kept]);
  assert.deepEqual(torch.memory(), start);
});

/** Counts the tensors `make` returns (and their bytes), drops them, and expects the collector to free every one. */
function assertCollectorFrees(make: () => Tensor[], bytes: number): void {
  collectGarbage();
  const start = torch.memory();
  let dropped: Tensor[] | null = make();
  assert.deepEqual(torch.memory(), { numTensors: start.numTensors + dropped.length, numBytes: start.numBytes + bytes });
  dropped = null;
  collectGarbage();
  assert.deepEqual(torch.memory(), start);
}

test('torch.memory() drops handles the garbage collector finalizes', () => {
  assertCollectorFrees(() => Array.from({ length: 100 }, () => torch.ones([10])), 100 * 40);
});

test('a disposed handle stays disposed after its native slot is reused by later tensors', () => {
  collectGarbage();
  const start = torch.memory();
  const a = torch.ones([3]);
  a.dispose();
  // The freed slot goes to the next tensors made; the old handle must not see them.
  const later = Array.from({ length: 10 }, (_, i) => torch.full([2], i));
  assert.equal(a.isDisposed, true);
  assert.throws(() => a.add(1), /disposed/);
  const b = torch.ones([3]);
  assert.throws(() => b.add(a), /disposed/);
  b.dispose();
  a.dispose();
  assert.deepEqual(
    later.map((t) => t.toNumbers()[0]),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  torch.dispose(later);
  collectGarbage();
  assert.deepEqual(torch.memory(), start);
});

// When V8 collects on its own depends on the machine's heap limits, so the
// test forces the collections; what it checks is that the finalizers run
// inside them, not on a later turn of the event loop this loop never yields to.
test('handles nobody disposes are finalized inside each collection of one long synchronous loop', () => {
  collectGarbage();
  const start = torch.memory();
  const x = torch.keep(torch.ones([1]));
  const undisposed = (): number => torch.memory().numTensors - start.numTensors - 1;
  const alive: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 50_000; i++) x.add(1); // never disposed: only the collector frees it
    assert.ok(undisposed() > 0, 'the dropped handles are alive until a collection');
    collectGarbage();
    alive.push(undisposed());
  }
  assert.deepEqual(alive, [0, 0, 0], 'handles still alive right after each collection inside the loop');
  const survivor = x.mul(3);
  assert.deepEqual(survivor.toNumbers(), [3]);
  survivor.dispose();
  x.dispose();
  collectGarbage();
  assert.deepEqual(torch.memory(), start);
});

// Only tensors no scope holds get a finalizer (a scope disposes the others):
// those made outside every scope, kept ones and the results of the outermost
// scope. Each must still be freed by the collector once dropped.
test('tensors that leave every scope (kept, returned from the outermost tidy, kept when an error unwinds) are finalized once dropped', () => {
  const leaveScopes = (): Tensor[] => {
    const made: Tensor[] = [];
    made.push(
      torch.tidy(() =>
        torch.tidy(() => {
          made.push(torch.keep(torch.ones([3])));
          return torch.zeros([2]);
        }),
      ),
    );
    assert.throws(() =>
      torch.tidy(() => {
        made.push(torch.keep(torch.ones([4])));
        throw new Error('boom');
      }),
    );
    return made;
  };
  assertCollectorFrees(leaveScopes, 12 + 8 + 16);
});

test('a disposed tensor that had a finalizer is not released twice when collected', () => {
  collectGarbage();
  const start = torch.memory();
  let outside: Tensor | null = torch.ones([2]);
  outside.dispose();
  const reused = torch.tidy(() => torch.keep(torch.full([2], 7)));
  outside = null;
  collectGarbage();
  assert.deepEqual(
    torch.memory(),
    { numTensors: start.numTensors + 1, numBytes: start.numBytes + 8 },
    'the slot now owned by another tensor survives the old owner being collected',
  );
  reused.dispose();
  assert.deepEqual(torch.memory(), start);
});
