import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { decode } from 'jpeg-js';
import { data } from '../../src/index.js';
import { rgbJpeg, smoothImage, writeFile } from './fixtures.js';
import { tempDir } from '../helpers/tempDir.js';
import { encodeGrayJpeg } from './grayJpeg.js';

const { loadDataset } = data;
const PLANE = 64 * 64;
// Listed unsorted on purpose: class indices follow the sorted ids.
const WNIDS = ['n03', 'n01', 'n02'];

/** The CHW bytes jpeg-js decodes from a JPEG: what the reader must deliver exactly. */
function decodedChw(jpeg: Uint8Array): number[] {
  const rgba = decode(jpeg, { useTArray: true }).data;
  return [0, 1, 2].flatMap((c) => Array.from({ length: PLANE }, (_, p) => rgba[4 * p + c]!));
}

/** tiny-imagenet-200 with 2 train images per class (n02's second one grayscale) and 3 val images. */
function writeTinyImageNet(dir: string): { root: string; jpegs: Map<string, Uint8Array> } {
  const root = join(dir, 'tiny-imagenet-200');
  const jpegs = new Map<string, Uint8Array>();
  const put = (path: string, jpeg: Uint8Array): void => {
    writeFile(join(root, path), jpeg);
    jpegs.set(path, jpeg);
  };
  writeFile(join(root, 'wnids.txt'), WNIDS.join('\n') + '\n');
  writeFile(join(root, 'words.txt'), 'n01\tgoldfish, Carassius auratus\nn02\ttabby cat\nn99\tunused\n');
  [...WNIDS].sort().forEach((wnid, k) => {
    put(`train/${wnid}/images/${wnid}_0.JPEG`, rgbJpeg(smoothImage(2 * k)));
    put(
      `train/${wnid}/images/${wnid}_1.JPEG`,
      wnid === 'n02'
        ? encodeGrayJpeg(
            64,
            64,
            Array.from({ length: 64 }, (_, b) => (b * 29) % 256),
          )
        : rgbJpeg(smoothImage(2 * k + 1)),
    );
  });
  writeFile(
    join(root, 'val', 'val_annotations.txt'),
    'val_0.JPEG\tn03\t0\t0\t10\t10\nval_1.JPEG\tn01\t1\t2\t30\t40\nval_2.JPEG\tn02\t0\t0\t63\t63\n',
  );
  for (let i = 0; i < 3; i++) put(`val/images/val_${i}.JPEG`, rgbJpeg(smoothImage(10 + i)));
  return { root, jpegs };
}

const imageBytes = (set: data.Dataset, i: number): number[] =>
  Array.from(set.images.narrow(0, i, 1).toFloat32Array(), (v) => Math.round(v * 255));

test('Tiny-ImageNet train and val: sorted class ids, round-robin train order, pixels exactly as decoded, names from words.txt', () => {
  const parent = tempDir();
  const { root, jpegs } = writeTinyImageNet(parent);
  const train = loadDataset('tiny-imagenet', { split: 'train', dataDir: parent });
  assert.deepEqual(train.images.shape, [6, 3, 64, 64]);
  assert.deepEqual(train.inputShape, [3, 64, 64]);
  assert.equal(train.numClasses, 3);
  assert.deepEqual(train.classNames, ['goldfish, Carassius auratus', 'tabby cat', 'n03']);
  assert.deepEqual(train.labels.toNumbers(), [0, 1, 2, 0, 1, 2]);
  const order = ['n01_0', 'n02_0', 'n03_0', 'n01_1', 'n02_1', 'n03_1'];
  order.forEach((name, i) =>
    assert.deepEqual(imageBytes(train, i), decodedChw(jpegs.get(`train/${name.slice(0, 3)}/images/${name}.JPEG`)!), name),
  );
  // The JPEG round trip stays close to the source image.
  const source = smoothImage(0);
  assert.ok(imageBytes(train, 0).every((v, i) => Math.abs(v - source[i]!) <= 6));

  const val = loadDataset('tiny-imagenet', { split: 'test', dataDir: root });
  assert.deepEqual(val.labels.toNumbers(), [2, 0, 1]);
  for (let i = 0; i < 3; i++) assert.deepEqual(imageBytes(val, i), decodedChw(jpegs.get(`val/images/val_${i}.JPEG`)!));
});

test('Tiny-ImageNet grayscale JPEGs become three equal channels', () => {
  const parent = tempDir();
  writeTinyImageNet(parent);
  const train = loadDataset('tiny-imagenet', { split: 'train', dataDir: parent });
  const gray = imageBytes(train, 4); // n02_1
  const [r, g, b] = [0, 1, 2].map((c) => gray.slice(c * PLANE, (c + 1) * PLANE));
  assert.deepEqual(g, r);
  assert.deepEqual(b, r);
  // Block (row 1, col 2) of the 8x8 grid has level (10 * 29) % 256.
  assert.equal(r[(8 + 3) * 64 + 16 + 5], (10 * 29) % 256);
});

test('Tiny-ImageNet limit decodes only a class-balanced prefix', () => {
  const parent = tempDir();
  const { root } = writeTinyImageNet(parent);
  rmSync(join(root, 'train', 'n01', 'images', 'n01_1.JPEG'));
  const set = loadDataset('tiny-imagenet', { split: 'train', dataDir: parent, limit: 3 });
  assert.deepEqual(set.labels.toNumbers(), [0, 1, 2]);
  assert.deepEqual(set.images.shape, [3, 3, 64, 64]);
});

test('Tiny-ImageNet broken inputs: errors name the file and the problem', () => {
  const parent = tempDir();
  const { root } = writeTinyImageNet(parent);
  const small = writeFile(join(root, 'val', 'images', 'val_1.JPEG'), rgbJpeg(smoothImage(1, 32), 32));
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'test', dataDir: parent }),
    (e: Error) => e.message.startsWith(small) && /wrong dims: the image is 32x32, expected 64x64/.test(e.message),
  );
  const garbage = writeFile(join(root, 'val', 'images', 'val_1.JPEG'), Uint8Array.from([0xff, 0xd8, 0xff, 0xdb, 0, 4, 1, 2]));
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'test', dataDir: parent }),
    (e: Error) => e.message.startsWith(garbage) && /not a decodable JPEG/.test(e.message),
  );
  rmSync(garbage);
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'test', dataDir: parent }),
    (e: Error) => e.message === `${garbage}: file not found`,
  );
  const annotations = writeFile(join(root, 'val', 'val_annotations.txt'), 'val_0.JPEG\tn07\t0\t0\t1\t1\n');
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'test', dataDir: parent }),
    (e: Error) => e.message.startsWith(annotations) && /line 1: class id n07 is not in wnids.txt/.test(e.message),
  );
  rmSync(join(root, 'train', 'n02'), { recursive: true });
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'train', dataDir: parent }),
    (e: Error) => e.message.startsWith(join(root, 'train', 'n02', 'images')) && /folder not found/.test(e.message),
  );
  rmSync(join(root, 'wnids.txt'));
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'train', dataDir: parent }),
    (e: Error) => e.message.startsWith(join(root, 'wnids.txt') + ': not found') && e.message.includes('tiny-imagenet-200.zip'),
  );
});

/** The JPEG with its frame header (SOF0) declaring another size; the scan data stays as it was. */
function withDeclaredSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(jpeg);
  const sof = out.findIndex((b, i) => b === 0xff && out[i + 1] === 0xc0);
  assert.ok(sof > 0, 'fixture has a baseline frame header');
  const view = new DataView(out.buffer);
  view.setUint16(sof + 5, height);
  view.setUint16(sof + 7, width);
  return out;
}

test('Tiny-ImageNet: a JPEG declaring a huge frame is refused at its header, naming the file', () => {
  const parent = tempDir();
  const { root } = writeTinyImageNet(parent);
  // 25 megapixels: within jpeg-js's defaults (100 MP, 512 MB), which would allocate hundreds of MB for it.
  const huge = writeFile(join(root, 'val', 'images', 'val_1.JPEG'), withDeclaredSize(rgbJpeg(smoothImage(1)), 5000, 5000));
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'test', dataDir: parent }),
    (e: Error) =>
      e.message === `${huge}: the JPEG frame is larger than ${16 * 64 * 64} pixels, expected a 64x64 image; refused before decoding`,
  );
});

test('Tiny-ImageNet listings cannot send the reader outside the data set, and unreadable listings name their file', () => {
  const parent = tempDir();
  const { root } = writeTinyImageNet(parent);
  const outside = writeFile(join(parent, 'outside.JPEG'), rgbJpeg(smoothImage(5)));
  const annotations = writeFile(join(root, 'val', 'val_annotations.txt'), `val_0.JPEG\tn01\n../../../${outside.split('/').pop()}\tn02\n`);
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'test', dataDir: parent }),
    (e: Error) => e.message === `${annotations}: line 2: "../../../outside.JPEG" is not a file name in val/images/`,
  );
  const wnids = writeFile(join(root, 'wnids.txt'), 'n01\n../../etc\n');
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'train', dataDir: parent }),
    (e: Error) => e.message === `${wnids}: class id "../../etc" is not a folder name`,
  );
  writeFile(wnids, Uint8Array.from([0x6e, 0xff, 0xfe, 0x0a]));
  assert.throws(
    () => loadDataset('tiny-imagenet', { split: 'train', dataDir: parent }),
    (e: Error) => e.message === `${wnids}: is not UTF-8 text`,
  );
});
