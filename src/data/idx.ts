// The IDX format of MNIST and Fashion-MNIST: a big-endian header (magic number,
// then one 32-bit size per dimension) followed by unsigned bytes.
// Images are idx3 (magic 2051: count, rows, cols), labels idx1 (magic 2049: count).
import { DataFileError } from './dataFileError.js';
import { readMaybeGzippedBytes } from './fileBytes.js';
import { checkLabelRange, type LabeledImages } from './labeledImages.js';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

/** Reads the header of an IDX file and checks that the body has exactly the size it declares. */
function readIdx(file: string, expectedMagic: number, what: string): { dims: number[]; body: Uint8Array } {
  const bytes = readMaybeGzippedBytes(file);
  const dimCount = expectedMagic & 0xff;
  const headerSize = 4 + 4 * dimCount;
  if (bytes.length < headerSize) throw new DataFileError(file, `truncated: ${bytes.length} bytes, shorter than the ${headerSize}-byte IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    throw new DataFileError(file, `wrong magic number ${magic}, expected ${expectedMagic} (IDX ${what})`);
  }
  const dims = Array.from({ length: dimCount }, (_, i) => view.getUint32(4 + 4 * i));
  const bodySize = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerSize;
  if (actual < bodySize) {
    throw new DataFileError(file, `truncated: the header declares [${dims.join(', ')}] (${bodySize} bytes) but only ${actual} bytes follow`);
  }
  if (actual > bodySize) {
    throw new DataFileError(file, `${actual - bodySize} bytes more than the header's [${dims.join(', ')}] declares`);
  }
  return { dims, body: bytes.subarray(headerSize) };
}

/** Reads an idx3 image file; with expectedSize, other image sizes are an error. */
export function readIdxImages(file: string, expectedSize?: [height: number, width: number]): { pixels: Uint8Array; count: number; height: number; width: number } {
  const { dims, body } = readIdx(file, IDX_IMAGES_MAGIC, 'images');
  const [count, height, width] = dims as [number, number, number];
  if (expectedSize && (height !== expectedSize[0] || width !== expectedSize[1])) {
    throw new DataFileError(file, `wrong dims: images are ${height}x${width}, expected ${expectedSize[0]}x${expectedSize[1]}`);
  }
  return { pixels: body, count, height, width };
}

/** Reads an idx1 label file and checks every label is below numClasses. */
export function readIdxLabels(file: string, numClasses: number): Uint8Array {
  const { body } = readIdx(file, IDX_LABELS_MAGIC, 'labels');
  checkLabelRange(file, body, numClasses);
  return body;
}

/** Reads a matching pair of IDX image and label files (single-channel images). */
export function readIdxPair(imagesFile: string, labelsFile: string, numClasses: number, expectedSize?: [number, number]): LabeledImages {
  const images = readIdxImages(imagesFile, expectedSize);
  const labels = readIdxLabels(labelsFile, numClasses);
  if (labels.length !== images.count) {
    throw new DataFileError(imagesFile, `count mismatch: ${images.count} images but ${labels.length} labels in ${labelsFile}`);
  }
  return { pixels: images.pixels, labels, shape: [1, images.height, images.width] };
}
