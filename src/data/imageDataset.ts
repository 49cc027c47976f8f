// A labelled image set held in memory. Pixels stay in their stored dtype
// (uint8 for most sets: a quarter of float32's memory) and become float32 in
// [0, 1] per batch; the whole-set float view is made only when asked for.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { pixelsPerImage, type ImageShape, type LabeledImages } from './labeledImages.js';

export type Split = 'train' | 'test';

export interface Dataset {
  readonly name: string;
  readonly split: Split;
  /** All images, float32 [N, C, H, W] in [0, 1]. */
  readonly images: Tensor;
  /** All labels, int64 [N]. */
  readonly labels: Tensor;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly inputShape: ImageShape;
  /** The number of examples N. */
  readonly size: number;
  /** Images (float32 in [0, 1]) and labels of the given rows, as new tensors in the caller's scope. */
  rows(indices: readonly number[]): { x: Tensor; y: Tensor };
}

export interface DatasetInfo {
  name: string;
  split: Split;
  numClasses: number;
  classNames: readonly string[];
}

export class ImageDataset implements Dataset {
  readonly name: string;
  readonly split: Split;
  readonly labels: Tensor;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly inputShape: ImageShape;
  /** The stored pixels: uint8 in 0..255 or float32 in [0, 1]. */
  readonly pixels: Tensor;
  private floatImages: Tensor | undefined;

  /** Takes ownership of pixels ([N, C, H, W], uint8 or float32) and labels (int64 [N]); they outlive tidy scopes. */
  constructor(info: DatasetInfo, pixels: Tensor, labels: Tensor) {
    const [n, ...imageShape] = pixels.shape;
    if (pixels.ndim !== 4) throw new Error(`${info.name}: pixels must be [N, C, H, W], got [${pixels.shape.join(', ')}]`);
    if (pixels.dtype !== 'uint8' && pixels.dtype !== 'float32')
      throw new Error(`${info.name}: pixels must be uint8 or float32, got ${pixels.dtype}`);
    if (labels.dtype !== 'int64' || labels.ndim !== 1 || labels.shape[0] !== n) {
      throw new Error(`${info.name}: labels must be int64 [${n}], got ${labels.dtype} [${labels.shape.join(', ')}]`);
    }
    this.name = info.name;
    this.split = info.split;
    this.numClasses = info.numClasses;
    this.classNames = info.classNames;
    this.inputShape = imageShape as ImageShape;
    this.pixels = torch.keep(pixels);
    this.labels = torch.keep(labels);
  }

  get size(): number {
    return this.labels.shape[0]!;
  }

  get images(): Tensor {
    if (this.pixels.dtype === 'float32') return this.pixels;
    if (this.floatImages === undefined) this.floatImages = torch.keep(torch.tidy(() => toUnitFloat(this.pixels)));
    return this.floatImages;
  }

  rows(indices: readonly number[]): { x: Tensor; y: Tensor } {
    return torch.tidy(() => {
      const index = torch.tensor(BigInt64Array.from(indices, BigInt));
      return { x: toUnitFloat(this.pixels.indexSelect(0, index)), y: this.labels.indexSelect(0, index) };
    });
  }

  /** Frees the tensors now instead of at garbage collection. */
  dispose(): void {
    this.pixels.dispose();
    this.labels.dispose();
    this.floatImages?.dispose();
  }
}

/** float32 in [0, 1] from uint8 0..255 pixels (float32 pixels pass through as they are). */
function toUnitFloat(pixels: Tensor): Tensor {
  return pixels.dtype === 'float32' ? pixels : pixels.float().div(255);
}

/** An ImageDataset from a reader's plain arrays (the arrays are copied into tensors). */
export function datasetFromImages(info: DatasetInfo, data: LabeledImages): ImageDataset {
  const count = data.labels.length;
  if (data.pixels.length !== count * pixelsPerImage(data.shape)) {
    throw new Error(`${info.name}: ${data.pixels.length} pixel bytes do not make ${count} images of [${data.shape.join(', ')}]`);
  }
  return torch.tidy(() => {
    const pixels = torch.fromBytes(data.pixels, [count, ...data.shape], 'uint8');
    const labels = torch.fromBytes(data.labels, [count], 'uint8').long();
    return new ImageDataset(info, pixels, labels);
  });
}
