// Data sets, readers for their file formats, and the mini-batch loader.
export { DataFileError } from './dataFileError.js';
export { readMaybeGzippedBytes, readRawBytes, isGzip, gunzipBounded } from './fileBytes.js';
export { readIdxImages, readIdxLabels, readIdxPair, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, MAX_IDX_ITEMS, MAX_IDX_BODY_BYTES } from './idx.js';
export { idxFilesFor, loadIdxFolder } from './idxFolder.js';
export { CIFAR10, CIFAR100, CIFAR_SHAPE, loadCifar, readCifarFile, type CifarLabelKind, type CifarVariant } from './cifar.js';
export { loadTinyImageNet, TINY_IMAGENET_FOLDER, TINY_IMAGENET_SHAPE } from './tinyImageNet.js';
export { decodeJpegInto } from './jpeg.js';
export { loadMnistPackage, mnistPackageSamples, MNIST_PACKAGE_TEST_FRACTION } from './mnistPackage.js';
export * from './classNames.js';
export { type LabeledImages, type ImageShape, pixelsPerImage, checkLabelRange, firstImages, concatImages } from './labeledImages.js';
export { locateFiles, hasFiles, type RequiredFile } from './locateFiles.js';
export { ImageDataset, datasetFromImages, type Dataset, type DatasetInfo, type Split } from './imageDataset.js';
export { loadDataset, DATASETS, FASHION_MNIST_SYSTEM_DIR, type DatasetName, type LoadDatasetOptions } from './registry.js';
export { SeededRandom } from './seededRandom.js';
export { augmentBatch, applyTransforms, drawTransforms, type AugmentOptions, type SampleTransform } from './augment.js';
export { DataLoader, type DataLoaderOptions, type Batch, type Shard } from './dataLoader.js';
