// JPEG decoding (pure JS, jpeg-js) straight into NCHW uint8 storage.
// jpeg-js expands grayscale and CMYK files to RGBA, so Tiny-ImageNet's
// grayscale images arrive with the gray value replicated in all three channels.
import { decode } from 'jpeg-js';
import { DataFileError } from './dataFileError.js';
import { pixelsPerImage, type ImageShape } from './labeledImages.js';

/**
 * The largest frame decoded, as a multiple of the expected image: a file of the
 * wrong size still gets its "wrong dims" message, while a frame declaring
 * gigapixels is refused at its header instead of costing jpeg-js's default 512 MB.
 */
const MAX_FRAME_FACTOR = 16;
/** jpeg-js's working memory per pixel: RGBA output plus per-component coefficient blocks, with room to spare. */
const DECODE_BYTES_PER_PIXEL = 32;

/** Decodes one RGB image of `shape` ([3, H, W]) into out, starting at image number `slot`. */
export function decodeJpegInto(file: string, bytes: Uint8Array, shape: ImageShape, out: Uint8Array, slot: number): void {
  const [channels, height, width] = shape;
  const maxPixels = MAX_FRAME_FACTOR * height * width;
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((maxPixels * DECODE_BYTES_PER_PIXEL) / 2 ** 20),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(message)) {
      throw new DataFileError(
        file,
        `the JPEG frame is larger than ${maxPixels} pixels, expected a ${width}x${height} image; refused before decoding`,
      );
    }
    throw new DataFileError(file, `not a decodable JPEG (${message})`);
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
