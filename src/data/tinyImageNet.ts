// Tiny-ImageNet in its standard layout (tiny-imagenet-200/):
//   wnids.txt                      one WordNet id per class
//   words.txt (optional)           wnid<TAB>readable names, used for classNames
//   train/<wnid>/images/*.JPEG     500 images per class
//   val/images/*.JPEG + val/val_annotations.txt (file<TAB>wnid<TAB>box...)
// 'test' means the labelled val folder (the official test folder has no labels).
// Class indices follow the sorted wnids, as torchvision's ImageFolder does.
// Training files are ordered round-robin over classes, so `limit` gives a
// class-balanced subset. JPEGs are decoded chunk by chunk into one uint8
// tensor, so memory holds the decoded pixels and one chunk, never all files.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as torch from '../engine/torch.js';
import { DataFileError } from './dataFileError.js';
import { readRawBytes, readTextFile } from './fileBytes.js';
import { pixelsPerImage, type ImageShape } from './labeledImages.js';
import { locateFiles } from './locateFiles.js';
import { decodeJpegInto } from './jpeg.js';
import { ImageDataset, type Split } from './imageDataset.js';

export const TINY_IMAGENET_SHAPE: ImageShape = [3, 64, 64];
export const TINY_IMAGENET_FOLDER = 'tiny-imagenet-200';
const DECODE_CHUNK = 1024;

interface LabeledFile {
  file: string;
  label: number;
}

const lines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');

function readWnids(file: string): string[] {
  const wnids = lines(readTextFile(file));
  if (wnids.length === 0) throw new DataFileError(file, 'lists no class ids');
  // Class ids name folders under train/: a path there would read outside the data set.
  const notAName = wnids.find((w) => basename(w) !== w || w === '..' || w === '.');
  if (notAName !== undefined) throw new DataFileError(file, `class id ${JSON.stringify(notAName)} is not a folder name`);
  const seen = new Set<string>();
  const duplicate = wnids.find((w) => seen.size === seen.add(w).size);
  if (duplicate !== undefined) throw new DataFileError(file, `class id ${duplicate} is listed twice`);
  return [...wnids].sort();
}

/** Readable names from words.txt when present, else the wnids themselves. */
function classNamesFor(root: string, wnids: string[]): string[] {
  const file = join(root, 'words.txt');
  if (!existsSync(file)) return wnids;
  const words = new Map(lines(readTextFile(file)).map((l) => l.split('\t') as [string, string]));
  return wnids.map((w) => words.get(w) ?? w);
}

function jpegsIn(dir: string): string[] {
  if (!existsSync(dir)) throw new DataFileError(dir, 'folder not found; every class in wnids.txt needs train/<wnid>/images/');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new DataFileError(dir, `cannot be listed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return names
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function trainFiles(root: string, wnids: string[]): LabeledFile[] {
  const perClass = wnids.map((wnid) => jpegsIn(join(root, 'train', wnid, 'images')));
  const files: LabeledFile[] = [];
  const longest = Math.max(...perClass.map((f) => f.length));
  for (let rank = 0; rank < longest; rank++) {
    perClass.forEach((list, label) => {
      if (rank < list.length) files.push({ file: list[rank]!, label });
    });
  }
  return files;
}

function valFiles(root: string, wnids: string[]): LabeledFile[] {
  const annotations = join(root, 'val', 'val_annotations.txt');
  const labelOf = new Map(wnids.map((w, i) => [w, i]));
  return lines(readTextFile(annotations)).map((line, row) => {
    const [name, wnid] = line.split('\t');
    const label = wnid === undefined ? undefined : labelOf.get(wnid);
    if (name === undefined || label === undefined) {
      throw new DataFileError(
        annotations,
        `line ${row + 1}: ${wnid === undefined ? 'expected <file>\\t<wnid>' : `class id ${wnid} is not in wnids.txt`}`,
      );
    }
    // Only files of val/images/ are read, whatever the listing says.
    if (basename(name) !== name || name === '..' || name === '.') {
      throw new DataFileError(annotations, `line ${row + 1}: ${JSON.stringify(name)} is not a file name in val/images/`);
    }
    return { file: join(root, 'val', 'images', name), label };
  });
}

export function loadTinyImageNet(dataDir: string, split: Split, limit?: number): ImageDataset {
  const { dir: root } = locateFiles(
    'Tiny-ImageNet',
    [join(dataDir, TINY_IMAGENET_FOLDER), dataDir],
    ['wnids.txt', split === 'train' ? 'train' : join('val', 'val_annotations.txt')],
    `Download http://cs231n.stanford.edu/tiny-imagenet-200.zip and unzip it into ${dataDir}.`,
  );
  const wnids = readWnids(join(root, 'wnids.txt'));
  const files = (split === 'train' ? trainFiles(root, wnids) : valFiles(root, wnids)).slice(0, limit);
  const count = files.length;
  const imageBytes = pixelsPerImage(TINY_IMAGENET_SHAPE);
  const pixels = torch.keep(torch.empty([count, ...TINY_IMAGENET_SHAPE], { dtype: 'uint8' }));
  try {
    const chunk = new Uint8Array(Math.min(DECODE_CHUNK, count) * imageBytes);
    for (let start = 0; start < count; start += DECODE_CHUNK) {
      const inChunk = Math.min(DECODE_CHUNK, count - start);
      for (let i = 0; i < inChunk; i++) {
        const { file } = files[start + i]!;
        decodeJpegInto(file, readRawBytes(file), TINY_IMAGENET_SHAPE, chunk, i);
      }
      torch.tidy(() => {
        const decoded = torch.fromBytes(chunk.subarray(0, inChunk * imageBytes), [inChunk, ...TINY_IMAGENET_SHAPE], 'uint8');
        pixels.narrow(0, start, inChunk).copy_(decoded);
      });
    }
  } catch (err) {
    pixels.dispose();
    throw err;
  }
  const labels = torch.tensor(BigInt64Array.from(files, (f) => BigInt(f.label)));
  return new ImageDataset(
    { name: 'tiny-imagenet', split, numClasses: wnids.length, classNames: classNamesFor(root, wnids) },
    pixels,
    labels,
  );
}
