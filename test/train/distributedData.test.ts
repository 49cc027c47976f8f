// The data of a data-parallel run: each global batch split across ranks, so N
// processes see in each step exactly the images one process sees, and one
// process sees exactly what it saw before sharding existed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, data } from '../../src/index.js';
import { patternBytes } from '../data/fixtures.js';

const { DataLoader, datasetFromImages } = data;

/** n pattern images of [3, size, size] with labels i % 10. */
function patternDataset(n: number, size: number): data.ImageDataset {
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return datasetFromImages(
    { name: 'pattern', split: 'train', numClasses: 10, classNames: [] },
    { pixels: patternBytes(n * 3 * size * size, 5), labels, shape: [3, size, size] },
  );
}

// Computed by the loader before shards existed (seed 5, epoch 2): the order and every augmented pixel.
const GOLDEN_FIRST_BATCH = [1, 3, 24, 30, 35, 37, 34, 38];
const GOLDEN_PIXEL_HASHES = [2463021486, 645714599, 2725510469, 1509109643, 1600162179, 1397286552, 2231946332];

const AUGMENT = { randomCrop: { size: 6, padding: 2 }, horizontalFlip: true };

/** An exact fingerprint of a batch's pixels (they are multiples of 1/255, zeros where padded). */
function pixelHash(x: data.Batch['x']): number {
  let h = 0;
  for (const v of x.toNumbers()) h = (Math.imul(h, 31) + Math.round(v * 255)) >>> 0;
  return h;
}

test('one process sees the batches it saw before data-parallel training existed', () => {
  const loader = new DataLoader(patternDataset(50, 6), { batchSize: 8, shuffle: true, seed: 5, augment: AUGMENT });
  torch.tidy(() => {
    const batches = [...loader.epoch(2)];
    assert.deepEqual(batches[0]!.indices, GOLDEN_FIRST_BATCH);
    assert.deepEqual(
      batches.map((b) => pixelHash(b.x)),
      GOLDEN_PIXEL_HASHES,
    );
  });
});

test('the shards of every batch, put together, are the batch one process sees', () => {
  const set = patternDataset(45, 6);
  const options = { batchSize: 12, shuffle: true, seed: 9, augment: AUGMENT };
  const whole = new DataLoader(set, options);
  for (const count of [2, 3]) {
    const shards = Array.from({ length: count }, (_, rank) => new DataLoader(set, { ...options, shard: { rank, count } }));
    assert.ok(shards.every((s) => s.length === whole.length));
    torch.tidy(() => {
      for (let index = 0; index < whole.length; index++) {
        const expected = whole.batch(1, index);
        const parts = shards.map((s) => s.batch(1, index));
        assert.deepEqual(
          parts.flatMap((p) => p.indices),
          expected.indices,
        );
        // The last batch (9 rows) splits 4+5 on two ranks, 3+3+3 on three.
        assert.deepEqual(
          parts.map((p) => p.indices.length),
          index < 3 ? Array(count).fill(12 / count) : count === 2 ? [4, 5] : [3, 3, 3],
        );
        assert.ok(parts.every((p) => p.globalSize === expected.indices.length));
        assert.deepEqual(
          torch.cat(parts.map((p) => p.x)).toNumbers(),
          expected.x.toNumbers(),
          `batch ${index} on ${count} ranks: the pixels differ`,
        );
      }
    });
  }
});

test('a shard outside its count is refused', () => {
  const set = patternDataset(4, 6);
  assert.throws(() => new DataLoader(set, { batchSize: 2, shard: { rank: 2, count: 2 } }), /shard must be a rank in 0\.\.count-1/);
});
