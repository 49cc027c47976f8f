import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, data } from '../../src/index.js';
import { patternBytes } from './fixtures.js';

const { DataLoader, SeededRandom, datasetFromImages, applyTransforms } = data;

/** n random images of [3, size, size] with labels i % 10. */
function syntheticDataset(n: number, size: number): data.ImageDataset {
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return datasetFromImages(
    { name: 'synthetic', split: 'train', numClasses: 10, classNames: [] },
    { pixels: patternBytes(n * 3 * size * size, 11), labels, shape: [3, size, size] },
  );
}

const epochIndices = (loader: data.DataLoader, epoch: number): number[][] => [...loader.epoch(epoch)].map((b) => b.indices);

test('batch count and sizes with and without dropLast', () => {
  const set = syntheticDataset(10, 4);
  const keep = new DataLoader(set, { batchSize: 4 });
  assert.equal(keep.length, 3);
  assert.deepEqual(
    [...keep.epoch(0)].map((b) => b.x.shape[0]),
    [4, 4, 2],
  );
  const drop = new DataLoader(set, { batchSize: 4, dropLast: true });
  assert.equal(drop.length, 2);
  assert.deepEqual(
    [...drop.epoch(0)].map((b) => b.y.shape[0]),
    [4, 4],
  );
  assert.equal(new DataLoader(set, { batchSize: 16, dropLast: true }).length, 0);
  assert.equal(new DataLoader(set, { batchSize: 5 }).length, 2);
  assert.deepEqual(epochIndices(new DataLoader(set, { batchSize: 4, limit: 6 }), 0), [
    [0, 1, 2, 3],
    [4, 5],
  ]);
});

test('every index exactly once per epoch, and batches hold those rows', () => {
  const set = syntheticDataset(10, 4);
  const loader = new DataLoader(set, { batchSize: 3, shuffle: true, seed: 5 });
  for (const epoch of [0, 1, 7]) {
    const batches = [...loader.epoch(epoch)];
    assert.deepEqual(
      batches.flatMap((b) => b.indices).sort((a, b) => a - b),
      [...Array(10).keys()],
    );
    for (const b of batches) {
      const index = torch.tensor(BigInt64Array.from(b.indices, BigInt));
      assert.deepEqual(b.x.toFloat32Array(), set.images.indexSelect(0, index).toFloat32Array());
      assert.deepEqual(
        b.y.toNumbers(),
        b.indices.map((i) => i % 10),
      );
      assert.equal(b.x.dtype, 'float32');
      assert.equal(b.y.dtype, 'int64');
    }
  }
});

test('order: same seed and epoch repeat, another epoch or seed reshuffles, no shuffle keeps dataset order', () => {
  const set = syntheticDataset(40, 2);
  const a = new DataLoader(set, { batchSize: 8, shuffle: true, seed: 1 });
  const b = new DataLoader(set, { batchSize: 8, shuffle: true, seed: 1 });
  torch.manualSeed(123); // the global torch RNG plays no part in the order
  const first = epochIndices(a, 2);
  torch.manualSeed(999);
  assert.deepEqual(epochIndices(b, 2), first);
  assert.deepEqual(epochIndices(a, 2), first);
  assert.notDeepEqual(epochIndices(a, 3), first);
  assert.notDeepEqual(epochIndices(new DataLoader(set, { batchSize: 8, shuffle: true, seed: 2 }), 2), first);
  assert.notDeepEqual(first.flat(), [...Array(40).keys()]);
  assert.deepEqual(epochIndices(new DataLoader(set, { batchSize: 8 }), 4).flat(), [...Array(40).keys()]);
});

test('iterating the loader runs epochs 0, 1, 2, ...', () => {
  const loader = new DataLoader(syntheticDataset(20, 2), { batchSize: 5, shuffle: true, seed: 3 });
  const runs = [0, 1].map(() => [...loader].map((b) => b.indices));
  assert.deepEqual(runs[0], epochIndices(loader, 0));
  assert.deepEqual(runs[1], epochIndices(loader, 1));
});

test("batch tensors belong to the caller's tidy scope", () => {
  const loader = new DataLoader(syntheticDataset(8, 4), {
    batchSize: 4,
    augment: { randomCrop: { size: 4, padding: 1 }, horizontalFlip: true },
  });
  let batch: data.Batch | undefined;
  torch.tidy(() => {
    batch = loader.batch(0, 1);
  });
  assert.ok(batch!.x.isDisposed && batch!.y.isDisposed);
  const kept = torch.tidy(() => loader.batch(0, 0));
  assert.ok(!kept.x.isDisposed);
});

/** x[n] cropped at (top, left) of the zero-padded image, mirrored when flip: the definition the augmentation must meet. */
function referenceCrop(image: Float32Array, size: number, padding: number, t: data.SampleTransform): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const row = t.top + i - padding;
        const col = t.left + (t.flip ? size - 1 - j : j) - padding;
        const inside = row >= 0 && row < size && col >= 0 && col < size;
        out.push(inside ? image[(c * size + row) * size + col]! : 0);
      }
    }
  }
  return out;
}

test('applyTransforms: each sample is its shifted copy with zero padding, mirrored when flipped', () => {
  const set = syntheticDataset(3, 6);
  const transforms = [
    { top: 0, left: 4, flip: false },
    { top: 2, left: 2, flip: true },
    { top: 3, left: 1, flip: true },
  ];
  const out = applyTransforms(set.images, transforms, { randomCrop: { size: 6, padding: 2 }, horizontalFlip: true });
  assert.deepEqual(out.shape, [3, 3, 6, 6]);
  transforms.forEach((t, n) => {
    const image = set.images.narrow(0, n, 1).toFloat32Array();
    assert.deepEqual(Array.from(out.narrow(0, n, 1).toFloat32Array()), referenceCrop(image, 6, 2, t));
  });
});

test('loader augmentation: shape kept, labels untouched, deterministic per (seed, epoch, batch), crops are shifted copies', () => {
  const set = syntheticDataset(24, 32);
  const augment = { randomCrop: { size: 32, padding: 4 }, horizontalFlip: true };
  const a = new DataLoader(set, { batchSize: 12, shuffle: true, seed: 9, augment });
  const b = new DataLoader(set, { batchSize: 12, shuffle: true, seed: 9, augment });
  const batch = a.batch(1, 1);
  assert.deepEqual(batch.x.shape, [12, 3, 32, 32]);
  assert.deepEqual(
    batch.y.toNumbers(),
    batch.indices.map((i) => i % 10),
  );
  assert.deepEqual(b.batch(1, 1).x.toFloat32Array(), batch.x.toFloat32Array());
  assert.notDeepEqual(a.batch(2, 1).x.toFloat32Array(), a.batch(1, 1).x.toFloat32Array());
  const found: data.SampleTransform[] = [];
  batch.indices.forEach((row, k) => {
    const image = set.images.narrow(0, row, 1).toFloat32Array();
    const got = Array.from(batch.x.narrow(0, k, 1).toFloat32Array());
    const candidates = [false, true].flatMap((flip) =>
      Array.from({ length: 81 }, (_, o) => ({ top: Math.floor(o / 9), left: o % 9, flip })),
    );
    const match = candidates.find((t) => referenceCrop(image, 32, 4, t).every((v, i) => v === got[i]));
    assert.ok(match, `sample ${k} is no padded shift of row ${row}`);
    found.push(match);
  });
  assert.ok(found.some((t) => t.flip) && found.some((t) => !t.flip), 'both flipped and unflipped samples');
  assert.ok(
    found.some((t) => t.top !== 4 || t.left !== 4),
    'some samples shifted',
  );
});

test('SeededRandom: reproducible per key, in range, roughly uniform', () => {
  const draw = (...key: number[]): number[] => {
    const r = new SeededRandom(...key);
    return Array.from({ length: 8 }, () => r.nextUint32());
  };
  assert.deepEqual(draw(1, 2), draw(1, 2));
  assert.notDeepEqual(draw(1, 2), draw(2, 1));
  assert.notDeepEqual(draw(2 ** 40), draw(0));
  const r = new SeededRandom(42);
  const counts = Array(6).fill(0);
  for (let i = 0; i < 6000; i++) counts[r.nextInt(6)]++;
  assert.ok(
    counts.every((c) => c > 850 && c < 1150),
    `counts ${counts}`,
  );
  assert.throws(() => new SeededRandom(-1), /non-negative integers/);
});
