// The plain in-memory form every reader produces: uint8 pixels in NCHW order
// and one uint8 label per image. Tensors are made from it only at the end.
import { DataFileError } from './dataFileError.js';

export type ImageShape = [channels: number, height: number, width: number];

export interface LabeledImages {
  pixels: Uint8Array;
  labels: Uint8Array;
  shape: ImageShape;
}

export const pixelsPerImage = (shape: ImageShape): number => shape[0] * shape[1] * shape[2];

/** Throws naming the file and the record when a label is not a class index. */
export function checkLabelRange(file: string, labels: Uint8Array, numClasses: number, what = 'label'): void {
  const bad = labels.findIndex((label) => label >= numClasses);
  if (bad >= 0) {
    throw new DataFileError(file, `${what} ${labels[bad]} of record ${bad} is out of range 0..${numClasses - 1}`);
  }
}

/** The first `limit` images (all when limit is undefined); views, no copy. */
export function firstImages(data: LabeledImages, limit: number | undefined): LabeledImages {
  const count = Math.min(data.labels.length, limit ?? Infinity);
  return {
    pixels: data.pixels.subarray(0, count * pixelsPerImage(data.shape)),
    labels: data.labels.subarray(0, count),
    shape: data.shape,
  };
}

/** Joins several parts of the same image shape (e.g. the five CIFAR-10 training batches). */
export function concatImages(parts: LabeledImages[], shape: ImageShape): LabeledImages {
  if (parts.length === 1) return parts[0]!;
  const count = parts.reduce((n, p) => n + p.labels.length, 0);
  const pixels = new Uint8Array(count * pixelsPerImage(shape));
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    pixels.set(part.pixels, at * pixelsPerImage(shape));
    labels.set(part.labels, at);
    at += part.labels.length;
  }
  return { pixels, labels, shape };
}
