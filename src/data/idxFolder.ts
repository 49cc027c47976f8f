// MNIST-style folders of IDX files under their standard names, gzipped or not:
// {train,t10k}-images-idx3-ubyte[.gz] and {train,t10k}-labels-idx1-ubyte[.gz].
import type { RequiredFile } from './locateFiles.js';
import { locateFiles } from './locateFiles.js';
import { readIdxPair } from './idx.js';
import { datasetFromImages, type DatasetInfo, type ImageDataset, type Split } from './imageDataset.js';
import { firstImages } from './labeledImages.js';

/** The image and label files of a split, each accepted gzipped or raw. */
export function idxFilesFor(split: Split): RequiredFile[] {
  const prefix = split === 'train' ? 'train' : 't10k';
  return [`${prefix}-images-idx3-ubyte`, `${prefix}-labels-idx1-ubyte`].map((base) => [`${base}.gz`, base]);
}

/** Loads 28x28 IDX images and labels of info.split from the first candidate folder that has them. */
export function loadIdxFolder(info: DatasetInfo, description: string, candidates: string[], hint: string, limit?: number): ImageDataset {
  const { files } = locateFiles(description, candidates, idxFilesFor(info.split), hint);
  const images = readIdxPair(files[0]!, files[1]!, info.numClasses, [28, 28]);
  return datasetFromImages(info, firstImages(images, limit));
}
