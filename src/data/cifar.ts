// The CIFAR binary formats: fixed-size records of label byte(s) followed by a
// 32x32 RGB image stored as 1024 red, 1024 green, then 1024 blue bytes
// (already channel-major, so records copy straight into NCHW).
// CIFAR-10: 1 label byte. CIFAR-100: coarse label byte, then fine label byte.
import { join } from 'node:path';
import { DataFileError } from './dataFileError.js';
import { readRawBytes } from './fileBytes.js';
import { checkLabelRange, concatImages, pixelsPerImage, type ImageShape, type LabeledImages } from './labeledImages.js';
import { locateFiles } from './locateFiles.js';
import { CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES } from './classNames.js';

export const CIFAR_SHAPE: ImageShape = [3, 32, 32];

export interface CifarVariant {
  description: string;
  folder: string;
  trainFiles: string[];
  testFiles: string[];
  labelBytes: number;
  url: string;
}

export const CIFAR10: CifarVariant = {
  description: 'CIFAR-10 (binary version)',
  folder: 'cifar-10-batches-bin',
  trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  testFiles: ['test_batch.bin'],
  labelBytes: 1,
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
};

export const CIFAR100: CifarVariant = {
  description: 'CIFAR-100 (binary version)',
  folder: 'cifar-100-binary',
  trainFiles: ['train.bin'],
  testFiles: ['test.bin'],
  labelBytes: 2,
  url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
};

/** Which CIFAR-100 label to use: the 100 fine classes or the 20 coarse superclasses (CIFAR-10 has one label). */
export type CifarLabelKind = 'fine' | 'coarse';

function labelSpec(variant: CifarVariant, kind: CifarLabelKind): { offset: number; numClasses: number; classNames: string[] } {
  if (variant.labelBytes === 1) return { offset: 0, numClasses: 10, classNames: CIFAR10_CLASSES };
  return kind === 'coarse'
    ? { offset: 0, numClasses: 20, classNames: CIFAR100_COARSE_CLASSES }
    : { offset: 1, numClasses: 100, classNames: CIFAR100_FINE_CLASSES };
}

/** Reads one CIFAR binary file of records with `labelBytes` label bytes, taking the label at `labelOffset`. */
export function readCifarFile(file: string, labelBytes: number, labelOffset: number, numClasses: number): LabeledImages {
  const bytes = readRawBytes(file);
  const imageBytes = pixelsPerImage(CIFAR_SHAPE);
  const recordBytes = labelBytes + imageBytes;
  if (bytes.length === 0) throw new DataFileError(file, 'empty file, expected CIFAR records');
  if (bytes.length % recordBytes !== 0) {
    throw new DataFileError(
      file,
      `truncated: ${bytes.length} bytes is not a whole number of ${recordBytes}-byte records ` +
        `(${Math.floor(bytes.length / recordBytes)} records and ${bytes.length % recordBytes} bytes left over)`,
    );
  }
  const count = bytes.length / recordBytes;
  const pixels = new Uint8Array(count * imageBytes);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const record = i * recordBytes;
    labels[i] = bytes[record + labelOffset]!;
    pixels.set(bytes.subarray(record + labelBytes, record + recordBytes), i * imageBytes);
  }
  checkLabelRange(file, labels, numClasses);
  return { pixels, labels, shape: CIFAR_SHAPE };
}

/**
 * Loads a CIFAR split from dataDir or its standard subfolder. Files are read in
 * order only until `limit` images are in hand.
 */
export function loadCifar(
  variant: CifarVariant,
  dataDir: string,
  split: 'train' | 'test',
  labelKind: CifarLabelKind,
  limit?: number,
): { images: LabeledImages; numClasses: number; classNames: string[] } {
  const required = split === 'train' ? variant.trainFiles : variant.testFiles;
  const { files } = locateFiles(
    variant.description,
    [join(dataDir, variant.folder), dataDir],
    required,
    `Download ${variant.url} and unpack it into ${dataDir}.`,
  );
  const spec = labelSpec(variant, labelKind);
  const parts: LabeledImages[] = [];
  let count = 0;
  for (const file of files) {
    if (limit !== undefined && count >= limit) break;
    const part = readCifarFile(file, variant.labelBytes, spec.offset, spec.numClasses);
    parts.push(part);
    count += part.labels.length;
  }
  return { images: concatImages(parts, CIFAR_SHAPE), numClasses: spec.numClasses, classNames: spec.classNames };
}
