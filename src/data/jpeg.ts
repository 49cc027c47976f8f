// JPEG decoding (pure JS, jpeg-js) straight into NCHW uint8 storage.
// jpeg-js expands grayscale and CMYK files to RGBA, so Tiny-ImageNet's
// grayscale images arrive with the gray value replicated in all three channels.
import { decode } from 'jpeg-js';
import { DataFileError } from './dataFileError.js';
import { pixelsPerImage, type ImageShape } from './labeledImages.js';

/** Decodes one RGB image of `shape` ([3, H, W]) into out, starting at image number `slot`. */
export function decodeJpegInto(file: string, bytes: Uint8Array, shape: ImageShape, out: Uint8Array, slot: number): void {
  const [channels, height, width] = shape;
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (err) {
    throw new DataFileError(file, `not a decodable JPEG (${(err as Error).message})`);
  }
  if (image.width !== width || image.height !== height) {
    throw new DataFileError(file, `wrong dims: the image is ${image.width}x${image.height}, expected ${width}x${height}`);
  }
  const plane = height * width;
  const base = slot * pixelsPerImage(shape);
  for (let c = 0; c < channels; c++) {
    const target = base + c * plane;
    for (let p = 0; p < plane; p++) out[target + p] = image.data[4 * p + c]!;
  }
}
