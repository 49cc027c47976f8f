// Finding a data set on disk: the user may point at the data set's own folder
// or at its parent, and files may come under alternative names (x.gz or x).
// When nothing fits, the error names the missing file and lists what is expected where.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from './dataFileError.js';

/** One required file; an array lists accepted alternatives, the first being the canonical name. */
export type RequiredFile = string | string[];

const alternatives = (required: RequiredFile): string[] => (Array.isArray(required) ? required : [required]);

/** The path of each required file in dir, or null for those absent. */
function resolveIn(dir: string, required: RequiredFile[]): (string | null)[] {
  return required.map(
    (r) =>
      alternatives(r)
        .map((name) => join(dir, name))
        .find((path) => existsSync(path)) ?? null,
  );
}

/** True when every required file is present in one of the candidate folders. */
export function hasFiles(candidates: string[], required: RequiredFile[]): boolean {
  return candidates.some((dir) => resolveIn(dir, required).every((p) => p !== null));
}

/**
 * The first candidate folder holding every required file, with the resolved
 * paths in the order of `required`. Otherwise a DataFileError naming the first
 * missing file, what is expected where, and `hint` (how to get the data).
 */
export function locateFiles(
  description: string,
  candidates: string[],
  required: RequiredFile[],
  hint: string,
): { dir: string; files: string[] } {
  for (const dir of candidates) {
    const files = resolveIn(dir, required);
    if (files.every((p) => p !== null)) return { dir, files: files as string[] };
  }
  const first = candidates[0]!;
  const missing = required[resolveIn(first, required).findIndex((p) => p === null)]!;
  const names = required.map((r) => alternatives(r).join(' or ')).join(', ');
  throw new DataFileError(
    join(first, alternatives(missing)[0]!),
    `not found; ${description} expects ${names} in ${candidates.join(' or in ')}. ${hint}`,
  );
}
