import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { data } from '../../src/index.js';
import { idxBytes, idxGzipBomb, patternBytes, writeFile } from './fixtures.js';
import { tempDir } from '../helpers/tempDir.js';

const { readIdxImages, readIdxLabels, readIdxPair, loadDataset, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } = data;

const COUNT = 5;
const pixels = patternBytes(COUNT * 28 * 28, 7);
const labels = Uint8Array.from([3, 0, 9, 1, 9]);

function writePair(dir: string, prefix: 'train' | 't10k', gzip: boolean): { images: string; labels: string } {
  const ext = gzip ? '.gz' : '';
  return {
    images: writeFile(join(dir, `${prefix}-images-idx3-ubyte${ext}`), idxBytes(IDX_IMAGES_MAGIC, [COUNT, 28, 28], pixels, gzip)),
    labels: writeFile(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), idxBytes(IDX_LABELS_MAGIC, [COUNT], labels, gzip)),
  };
}

for (const gzip of [false, true]) {
  test(`IDX ${gzip ? 'gzipped' : 'raw'}: pixels and labels round trip exactly`, () => {
    const files = writePair(tempDir(), 'train', gzip);
    const images = readIdxImages(files.images);
    assert.deepEqual([images.count, images.height, images.width], [COUNT, 28, 28]);
    assert.deepEqual(Array.from(images.pixels), Array.from(pixels));
    assert.deepEqual(Array.from(readIdxLabels(files.labels, 10)), Array.from(labels));
  });
}

test('IDX folder through loadDataset: float images in [0, 1] equal bytes / 255, int64 labels, limit', () => {
  const dir = tempDir();
  writePair(join(dir, 'fashion-mnist'), 't10k', true);
  const set = loadDataset('fashion-mnist', { split: 'test', dataDir: dir });
  assert.deepEqual(set.images.shape, [COUNT, 1, 28, 28]);
  assert.equal(set.images.dtype, 'float32');
  assert.equal(set.labels.dtype, 'int64');
  assert.deepEqual(set.inputShape, [1, 28, 28]);
  assert.equal(set.numClasses, 10);
  assert.equal(set.classNames[9], 'Ankle boot');
  assert.deepEqual(
    Array.from(set.images.toFloat32Array(), (v) => Math.round(v * 255)),
    Array.from(pixels),
  );
  assert.ok(set.images.toFloat32Array().every((v) => v >= 0 && v <= 1));
  assert.deepEqual(set.labels.toNumbers(), Array.from(labels));
  const limited = loadDataset('fashion-mnist', { split: 'test', dataDir: dir, limit: 2 });
  assert.deepEqual(limited.labels.toNumbers(), [3, 0]);
  assert.deepEqual(limited.images.shape, [2, 1, 28, 28]);
});

test('mnist reads the standard IDX files from dataDir', () => {
  const dir = tempDir();
  writePair(dir, 'train', false);
  const set = loadDataset('mnist', { split: 'train', dataDir: dir });
  assert.equal(set.size, COUNT);
  assert.equal(set.name, 'mnist');
  assert.deepEqual(set.labels.toNumbers(), Array.from(labels));
});

test('mnist and fashion-mnist never fall back silently: no dataDir, or one without the files, is an error', () => {
  assert.throws(() => loadDataset('mnist', { split: 'train' }), /mnist is not bundled: pass dataDir.*'mnist-10k'/);
  const empty = tempDir();
  for (const name of ['mnist', 'fashion-mnist'] as const) {
    assert.throws(
      () => loadDataset(name, { split: 'test', dataDir: empty }),
      (e: Error) =>
        e.message.includes(join(empty, name === 'mnist' ? 'mnist' : 'fashion-mnist')) &&
        /t10k-images-idx3-ubyte/.test(e.message) &&
        !e.message.includes('/usr/share/datasets'),
    );
  }
});

test('IDX wrong magic number: the error names the file and both numbers', () => {
  const dir = tempDir();
  const file = writeFile(join(dir, 'images'), idxBytes(IDX_LABELS_MAGIC, [COUNT, 28, 28], pixels));
  assert.throws(
    () => readIdxImages(file),
    (e: Error) => e.message.startsWith(file) && /wrong magic number 2049, expected 2051/.test(e.message),
  );
  const labelsFile = writeFile(join(dir, 'labels'), idxBytes(IDX_IMAGES_MAGIC, [COUNT], labels));
  assert.throws(
    () => readIdxLabels(labelsFile, 10),
    (e: Error) => e.message.startsWith(labelsFile) && /wrong magic number 2051, expected 2049/.test(e.message),
  );
});

test('IDX truncated body, truncated header, extra bytes and broken gzip are errors naming the file', () => {
  const dir = tempDir();
  const full = idxBytes(IDX_IMAGES_MAGIC, [COUNT, 28, 28], pixels);
  const cut = writeFile(join(dir, 'cut'), full.subarray(0, full.length - 10));
  assert.throws(
    () => readIdxImages(cut),
    (e: Error) => e.message.startsWith(cut) && /truncated/.test(e.message) && /3910 bytes follow/.test(e.message),
  );
  const header = writeFile(join(dir, 'header'), full.subarray(0, 9));
  assert.throws(
    () => readIdxImages(header),
    (e: Error) => e.message.startsWith(header) && /truncated: 9 bytes/.test(e.message),
  );
  const long = writeFile(join(dir, 'long'), Uint8Array.from([...full, 1, 2]));
  assert.throws(
    () => readIdxImages(long),
    (e: Error) => e.message.startsWith(long) && /2 bytes more/.test(e.message),
  );
  const gz = idxBytes(IDX_IMAGES_MAGIC, [COUNT, 28, 28], pixels, true);
  const brokenGz = writeFile(join(dir, 'broken.gz'), gz.subarray(0, gz.length - 20));
  assert.throws(
    () => readIdxImages(brokenGz),
    (e: Error) => e.message.startsWith(brokenGz) && /gzip/.test(e.message),
  );
});

test('IDX label out of range: the error names the file, the label and the record', () => {
  const file = writeFile(join(tempDir(), 'labels'), idxBytes(IDX_LABELS_MAGIC, [3], Uint8Array.from([1, 2, 10])));
  assert.throws(
    () => readIdxLabels(file, 10),
    (e: Error) => e.message.startsWith(file) && /label 10 of record 2 is out of range 0..9/.test(e.message),
  );
});

test('IDX count mismatch between image and label files names both files', () => {
  const dir = tempDir();
  const images = writeFile(join(dir, 'images'), idxBytes(IDX_IMAGES_MAGIC, [COUNT, 28, 28], pixels));
  const fewer = writeFile(join(dir, 'labels'), idxBytes(IDX_LABELS_MAGIC, [4], labels.subarray(0, 4)));
  assert.throws(
    () => readIdxPair(images, fewer, 10),
    (e: Error) => e.message.startsWith(images) && e.message.includes(fewer) && /5 images but 4 labels/.test(e.message),
  );
});

test('IDX wrong image dims is an error naming the file', () => {
  const file = writeFile(join(tempDir(), 'images'), idxBytes(IDX_IMAGES_MAGIC, [2, 4, 5], patternBytes(40)));
  assert.deepEqual(readIdxImages(file).height, 4);
  assert.throws(
    () => readIdxImages(file, [28, 28]),
    (e: Error) => e.message.startsWith(file) && /wrong dims: images are 4x5, expected 28x28/.test(e.message),
  );
});

test('IDX missing files: the error names the missing file and the expected ones', () => {
  const dir = tempDir();
  writeFile(join(dir, 'fashion-mnist', 'train-images-idx3-ubyte.gz'), idxBytes(IDX_IMAGES_MAGIC, [COUNT, 28, 28], pixels, true));
  const info = { name: 'fashion-mnist', split: 'train' as const, numClasses: 10, classNames: data.FASHION_MNIST_CLASSES };
  assert.throws(
    () => data.loadIdxFolder(info, 'Fashion-MNIST', [join(dir, 'fashion-mnist'), dir], 'Get it from the web.'),
    (e: Error) =>
      e.message.startsWith(join(dir, 'fashion-mnist', 'train-labels-idx1-ubyte.gz') + ': not found') &&
      e.message.includes('train-images-idx3-ubyte.gz or train-images-idx3-ubyte, train-labels-idx1-ubyte.gz or train-labels-idx1-ubyte') &&
      e.message.includes(`in ${join(dir, 'fashion-mnist')} or in ${dir}`) &&
      e.message.endsWith('Get it from the web.'),
  );
  assert.throws(
    () => readIdxImages(join(dir, 'nothing.gz')),
    (e: Error) => e.message === `${join(dir, 'nothing.gz')}: file not found`,
  );
});

test('a gzip bomb is refused once it inflates past what its header declares, not after inflating it all', () => {
  const dir = tempDir();
  // 1 GiB of zeros after two declared images, in a file of about 1 MB.
  const bomb = writeFile(
    join(dir, 'bomb-images-idx3-ubyte.gz'),
    idxGzipBomb(IDX_IMAGES_MAGIC, [2, 28, 28], pixels.subarray(0, 2 * 784), 1024),
  );
  const declared = 16 + 2 * 784;
  const refusal = new RegExp(
    `^${bomb}: the gzip stream inflates to more than ${declared} bytes, the size its header's \\[2, 28, 28\\] declares`,
  );
  assert.throws(
    () => readIdxImages(bomb),
    (e: Error) => e instanceof data.DataFileError && refusal.test(e.message),
    'images alone',
  );
  const labels = writeFile(join(dir, 'labels'), idxBytes(IDX_LABELS_MAGIC, [2], Uint8Array.from([1, 2])));
  assert.throws(
    () => readIdxPair(bomb, labels, 10, [28, 28]),
    (e: Error) => refusal.test(e.message),
    'images with labels',
  );
});

test('IDX headers declaring more than the reader accepts are refused before the body is read', () => {
  const dir = tempDir();
  const huge = writeFile(join(dir, 'huge.gz'), idxGzipBomb(IDX_IMAGES_MAGIC, [1000, 1000, 1000], new Uint8Array(0), 1));
  assert.throws(
    () => readIdxImages(huge),
    (e: Error) =>
      e.message ===
      `${huge}: the header declares [1000, 1000, 1000] (1000000000 bytes), more than the ${data.MAX_IDX_BODY_BYTES}-byte limit for IDX data`,
  );
  const manyLabels = writeFile(join(dir, 'labels.gz'), idxGzipBomb(IDX_LABELS_MAGIC, [data.MAX_IDX_ITEMS + 1], new Uint8Array(0), 2));
  assert.throws(
    () => readIdxLabels(manyLabels, 10),
    (e: Error) =>
      e.message === `${manyLabels}: the header declares 1000001 labels, more than the ${data.MAX_IDX_ITEMS} this reader accepts`,
  );
  // The label count bounds the image file: a mismatch is found on the header.
  const images = writeFile(join(dir, 'images.gz'), idxGzipBomb(IDX_IMAGES_MAGIC, [1000, 28, 28], new Uint8Array(0), 1));
  const labelsFile = writeFile(join(dir, 'labels'), idxBytes(IDX_LABELS_MAGIC, [COUNT], labels));
  assert.throws(
    () => readIdxPair(images, labelsFile, 10, [28, 28]),
    (e: Error) => e.message === `${images}: count mismatch: 1000 images but ${COUNT} labels in ${labelsFile}`,
  );
});
