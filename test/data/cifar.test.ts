import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { data } from '../../src/index.js';
import { cifarBytes, patternBytes, writeFile } from './fixtures.js';
import { tempDir } from '../helpers/tempDir.js';

const { loadDataset, readCifarFile } = data;
const IMAGE = 3 * 32 * 32;

/** Pixels as the dataset serves them, back to bytes. */
const bytesOf = (set: data.Dataset): number[] => Array.from(set.images.toFloat32Array(), (v) => Math.round(v * 255));

/** Writes the five CIFAR-10 training batches (2 records each) and the test batch (3) under dir/cifar-10-batches-bin. */
function writeCifar10(dir: string): { trainPixels: Uint8Array; trainLabels: number[]; testPixels: Uint8Array; testLabels: number[] } {
  const folder = join(dir, 'cifar-10-batches-bin');
  const trainPixels = patternBytes(10 * IMAGE, 3);
  const trainLabels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (let b = 0; b < 5; b++) {
    const rows = [2 * b, 2 * b + 1];
    writeFile(
      join(folder, `data_batch_${b + 1}.bin`),
      cifarBytes(
        rows.map((r) => [trainLabels[r]!]),
        trainPixels.subarray(2 * b * IMAGE, (2 * b + 2) * IMAGE),
      ),
    );
  }
  const testPixels = patternBytes(3 * IMAGE, 4);
  const testLabels = [9, 0, 4];
  writeFile(
    join(folder, 'test_batch.bin'),
    cifarBytes(
      testLabels.map((l) => [l]),
      testPixels,
    ),
  );
  return { trainPixels, trainLabels, testPixels, testLabels };
}

test('CIFAR-10: records round trip exactly, batches in order, from the parent or the standard folder', () => {
  const dir = tempDir();
  const written = writeCifar10(dir);
  for (const dataDir of [dir, join(dir, 'cifar-10-batches-bin')]) {
    const train = loadDataset('cifar10', { split: 'train', dataDir });
    assert.deepEqual(train.images.shape, [10, 3, 32, 32]);
    assert.deepEqual(train.inputShape, [3, 32, 32]);
    assert.deepEqual(bytesOf(train), Array.from(written.trainPixels));
    assert.deepEqual(train.labels.toNumbers(), written.trainLabels);
    assert.equal(train.numClasses, 10);
    assert.equal(train.classNames[3], 'cat');
    const testSet = loadDataset('cifar10', { split: 'test', dataDir });
    assert.deepEqual(bytesOf(testSet), Array.from(written.testPixels));
    assert.deepEqual(testSet.labels.toNumbers(), written.testLabels);
  }
});

test('CIFAR-10 limit keeps the first examples', () => {
  const dir = tempDir();
  const written = writeCifar10(dir);
  const set = loadDataset('cifar10', { split: 'train', dataDir: dir, limit: 3 });
  assert.deepEqual(set.labels.toNumbers(), [0, 1, 2]);
  assert.deepEqual(bytesOf(set), Array.from(written.trainPixels.subarray(0, 3 * IMAGE)));
});

test('CIFAR-100: fine labels by default, coarse on request', () => {
  const dir = tempDir();
  const pixels = patternBytes(4 * IMAGE, 5);
  const labels = [
    [19, 99],
    [0, 0],
    [7, 42],
    [11, 3],
  ];
  writeFile(join(dir, 'cifar-100-binary', 'train.bin'), cifarBytes(labels, pixels));
  const fine = loadDataset('cifar100', { split: 'train', dataDir: dir });
  assert.deepEqual(fine.labels.toNumbers(), [99, 0, 42, 3]);
  assert.deepEqual(bytesOf(fine), Array.from(pixels));
  assert.equal(fine.numClasses, 100);
  assert.equal(fine.classNames[99], 'worm');
  const coarse = loadDataset('cifar100', { split: 'train', dataDir: dir, cifar100Labels: 'coarse' });
  assert.deepEqual(coarse.labels.toNumbers(), [19, 0, 7, 11]);
  assert.equal(coarse.numClasses, 20);
  assert.equal(coarse.classNames[19], 'vehicles_2');
});

test('CIFAR-100 class name lists: 100 fine and 20 coarse, alphabetical and distinct', () => {
  for (const [names, count] of [
    [data.CIFAR100_FINE_CLASSES, 100],
    [data.CIFAR100_COARSE_CLASSES, 20],
  ] as const) {
    assert.equal(names.length, count);
    assert.equal(new Set(names).size, count);
    assert.deepEqual([...names].sort(), [...names]);
  }
});

test('CIFAR truncated file: the error names the file and the record size', () => {
  const file = writeFile(join(tempDir(), 'test_batch.bin'), cifarBytes([[1], [2]], patternBytes(2 * IMAGE)).subarray(0, 2 * 3073 - 100));
  assert.throws(
    () => readCifarFile(file, 1, 0, 10),
    (e: Error) => e.message.startsWith(file) && /truncated: 6046 bytes is not a whole number of 3073-byte records/.test(e.message),
  );
  const empty = writeFile(join(tempDir(), 'empty.bin'), new Uint8Array(0));
  assert.throws(
    () => readCifarFile(empty, 1, 0, 10),
    (e: Error) => e.message.startsWith(empty) && /empty/.test(e.message),
  );
});

test('CIFAR label out of range: the error names the file, label and record', () => {
  const dir = tempDir();
  const folder = join(dir, 'cifar-10-batches-bin');
  writeFile(join(folder, 'test_batch.bin'), cifarBytes([[1], [10]], patternBytes(2 * IMAGE)));
  assert.throws(
    () => loadDataset('cifar10', { split: 'test', dataDir: dir }),
    (e: Error) => e.message.startsWith(join(folder, 'test_batch.bin')) && /label 10 of record 1 is out of range 0..9/.test(e.message),
  );
  writeFile(join(dir, 'cifar-100-binary', 'test.bin'), cifarBytes([[20, 5]], patternBytes(IMAGE)));
  assert.throws(
    () => loadDataset('cifar100', { split: 'test', dataDir: dir, cifar100Labels: 'coarse' }),
    /label 20 of record 0 is out of range 0..19/,
  );
  assert.equal(loadDataset('cifar100', { split: 'test', dataDir: dir }).labels.toNumbers()[0], 5);
});

test('CIFAR missing files: the error names the missing file, lists the expected ones and where to get them', () => {
  const dir = tempDir();
  writeFile(join(dir, 'cifar-10-batches-bin', 'data_batch_1.bin'), cifarBytes([[1]], patternBytes(IMAGE)));
  assert.throws(
    () => loadDataset('cifar10', { split: 'train', dataDir: dir }),
    (e: Error) =>
      e.message.startsWith(join(dir, 'cifar-10-batches-bin', 'data_batch_2.bin') + ': not found') &&
      e.message.includes('data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin') &&
      e.message.includes('cifar-10-binary.tar.gz'),
  );
  assert.throws(
    () => loadDataset('cifar100', { split: 'test', dataDir: dir }),
    (e: Error) => e.message.startsWith(join(dir, 'cifar-100-binary', 'test.bin')),
  );
  assert.throws(
    () => loadDataset('cifar10', { split: 'train' }),
    /cifar10 is not bundled: pass dataDir, the folder holding cifar-10-batches-bin/,
  );
});
