// Batch augmentation for small images: random crop after zero padding and
// random horizontal flip, as in the standard CIFAR recipe. Both are one pair
// of gathers over the whole batch: row indices pick each sample's crop rows,
// column indices its crop columns, reversed for flipped samples.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { SeededRandom } from './seededRandom.js';

export interface AugmentOptions {
  /** Crop `size` x `size` at a random offset from the image padded by `padding` zeros on each side. */
  randomCrop?: { size: number; padding: number };
  /** Mirror left-right with probability 1/2. */
  horizontalFlip?: boolean;
}

/** Where each sample's crop starts (in padded coordinates) and whether it is flipped. */
export interface SampleTransform {
  top: number;
  left: number;
  flip: boolean;
}

/** Draws one transform per sample, in sample order (top, left, flip each). */
export function drawTransforms(
  count: number,
  imageSize: [height: number, width: number],
  o: AugmentOptions,
  random: SeededRandom,
): SampleTransform[] {
  const { size, padding } = cropOf(imageSize, o);
  return Array.from({ length: count }, () => ({
    top: random.nextInt(imageSize[0] + 2 * padding - size + 1),
    left: random.nextInt(imageSize[1] + 2 * padding - size + 1),
    flip: o.horizontalFlip ? random.nextBoolean() : false,
  }));
}

function cropOf(imageSize: [number, number], o: AugmentOptions): { size: number; padding: number } {
  if (!o.randomCrop) {
    if (imageSize[0] !== imageSize[1]) throw new Error(`augment: flipping alone expects square images, got ${imageSize.join('x')}`);
    return { size: imageSize[0], padding: 0 };
  }
  const { size, padding } = o.randomCrop;
  if (!Number.isInteger(size) || !Number.isInteger(padding) || size <= 0 || padding < 0) {
    throw new Error(
      `augment: randomCrop needs a positive integer size and a non-negative integer padding, got ${JSON.stringify(o.randomCrop)}`,
    );
  }
  if (size > Math.min(...imageSize) + 2 * padding)
    throw new Error(`augment: crop ${size} is larger than the padded ${imageSize.join('x')} image`);
  return { size, padding };
}

/** Applies the transforms to x [N, C, H, W]; the result is [N, C, size, size]. */
export function applyTransforms(x: Tensor, transforms: SampleTransform[], o: AugmentOptions): Tensor {
  const [n, channels, height, width] = x.shape as [number, number, number, number];
  const { size, padding } = cropOf([height, width], o);
  return torch.tidy(() => {
    const padded = padding > 0 ? torch.pad(x, [padding, padding, padding, padding]) : x;
    const rows = new BigInt64Array(n * size);
    const cols = new BigInt64Array(n * size);
    transforms.forEach(({ top, left, flip }, s) => {
      for (let i = 0; i < size; i++) {
        rows[s * size + i] = BigInt(top + i);
        cols[s * size + i] = BigInt(left + (flip ? size - 1 - i : i));
      }
    });
    const paddedWidth = width + 2 * padding;
    const rowIndex = torch.tensor(rows, [n, 1, size, 1]).expand([n, channels, size, paddedWidth]);
    const colIndex = torch.tensor(cols, [n, 1, 1, size]).expand([n, channels, size, size]);
    return padded.gather(2, rowIndex.to(x.device)).gather(3, colIndex.to(x.device));
  });
}

/** Draws and applies random augmentation to a batch. */
export function augmentBatch(x: Tensor, o: AugmentOptions, random: SeededRandom): Tensor {
  const transforms = drawTransforms(x.shape[0]!, [x.shape[2]!, x.shape[3]!], o, random);
  return applyTransforms(x, transforms, o);
}
