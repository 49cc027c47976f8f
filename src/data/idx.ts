// The IDX format of MNIST and Fashion-MNIST: a big-endian header (magic number,
// then one 32-bit size per dimension) followed by unsigned bytes.
// Images are idx3 (magic 2051: count, rows, cols), labels idx1 (magic 2049: count).
// The header is read and checked before the body is inflated, and a gzipped
// body is inflated only up to the size its header declares.
import { DataFileError } from './dataFileError.js';
import { gunzipBounded, gunzipPrefix, isGzip, readRawBytes } from './fileBytes.js';
import { checkLabelRange, type LabeledImages } from './labeledImages.js';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;
/**
 * The most items (images or labels) and the largest body an IDX file may
 * declare: a million 28x28 images (EMNIST, the largest MNIST-style data set,
 * has 814,255). Bounds what a hostile header can make us allocate.
 */
export const MAX_IDX_ITEMS = 1_000_000;
export const MAX_IDX_BODY_BYTES = MAX_IDX_ITEMS * 28 * 28;

/** What the caller accepts, checked on the header before the body is read. */
type DimsCheck = (dims: number[]) => void;

/**
 * Reads an IDX file: checks its header (magic, declared size, then `check`),
 * then that the body has exactly the size the header declares.
 */
function readIdx(file: string, expectedMagic: number, what: string, check: DimsCheck): { dims: number[]; body: Uint8Array } {
  const raw = readRawBytes(file);
  const gzipped = isGzip(raw);
  const dimCount = expectedMagic & 0xff;
  const headerSize = 4 + 4 * dimCount;
  let head = gzipped ? gunzipPrefix(file, raw) : raw;
  // A gzip stream can put its first output after more than the peeked input (long gzip header fields).
  if (gzipped && head.length < headerSize)
    head = gunzipBounded(file, raw, headerSize + MAX_IDX_BODY_BYTES, `the ${MAX_IDX_BODY_BYTES}-byte limit for IDX data`);
  if (head.length < headerSize)
    throw new DataFileError(file, `truncated: ${head.length} bytes, shorter than the ${headerSize}-byte IDX header`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    throw new DataFileError(file, `wrong magic number ${magic}, expected ${expectedMagic} (IDX ${what})`);
  }
  const dims = Array.from({ length: dimCount }, (_, i) => view.getUint32(4 + 4 * i));
  const bodySize = dims.reduce((a, b) => a * b, 1);
  if (dims[0]! > MAX_IDX_ITEMS) {
    throw new DataFileError(file, `the header declares ${dims[0]} ${what}, more than the ${MAX_IDX_ITEMS} this reader accepts`);
  }
  if (bodySize > MAX_IDX_BODY_BYTES) {
    throw new DataFileError(
      file,
      `the header declares [${dims.join(', ')}] (${bodySize} bytes), more than the ${MAX_IDX_BODY_BYTES}-byte limit for IDX data`,
    );
  }
  check(dims);
  const declared = `the size its header's [${dims.join(', ')}] declares`;
  const bytes = gzipped ? gunzipBounded(file, raw, headerSize + bodySize, declared) : raw;
  const actual = bytes.length - headerSize;
  if (actual < bodySize) {
    throw new DataFileError(
      file,
      `truncated: the header declares [${dims.join(', ')}] (${bodySize} bytes) but only ${actual} bytes follow`,
    );
  }
  if (actual > bodySize) {
    throw new DataFileError(file, `${actual - bodySize} bytes more than the header's [${dims.join(', ')}] declares`);
  }
  return { dims, body: bytes.subarray(headerSize) };
}

/**
 * Reads an idx3 image file; with expectedSize, other image sizes are an error,
 * and with expectedCount (e.g. the number of labels) so is another image count.
 */
export function readIdxImages(
  file: string,
  expectedSize?: [height: number, width: number],
  expectedCount?: { count: number; source: string },
): { pixels: Uint8Array; count: number; height: number; width: number } {
  const { dims, body } = readIdx(file, IDX_IMAGES_MAGIC, 'images', ([count, height, width]) => {
    if (expectedSize && (height !== expectedSize[0] || width !== expectedSize[1])) {
      throw new DataFileError(file, `wrong dims: images are ${height}x${width}, expected ${expectedSize[0]}x${expectedSize[1]}`);
    }
    if (expectedCount && count !== expectedCount.count) {
      throw new DataFileError(file, `count mismatch: ${count} images but ${expectedCount.count} ${expectedCount.source}`);
    }
  });
  const [count, height, width] = dims as [number, number, number];
  return { pixels: body, count, height, width };
}

/** Reads an idx1 label file and checks every label is below numClasses. */
export function readIdxLabels(file: string, numClasses: number): Uint8Array {
  const { body } = readIdx(file, IDX_LABELS_MAGIC, 'labels', () => {});
  checkLabelRange(file, body, numClasses);
  return body;
}

/**
 * Reads a matching pair of IDX image and label files (single-channel images).
 * The labels come first: their count bounds how much of the image file is read.
 */
export function readIdxPair(imagesFile: string, labelsFile: string, numClasses: number, expectedSize?: [number, number]): LabeledImages {
  const labels = readIdxLabels(labelsFile, numClasses);
  const images = readIdxImages(imagesFile, expectedSize, { count: labels.length, source: `labels in ${labelsFile}` });
  return { pixels: images.pixels, labels, shape: [1, images.height, images.width] };
}
