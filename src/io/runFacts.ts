// What every run file records next to its numbers: the full configuration, the
// seed, the exact command and the versions of everything that shaped the result.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as torch from '../engine/torch.js';
import { z } from './schema.js';

export function packageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/**
 * The facts fields of a run file, around the schema of its `config`. The writer
 * always writes every field; a reader takes null for those an older file lacks.
 */
export function runFactsSchema<C extends z.ZodType>(config: C) {
  return z.object({
    config: config.meta({ description: 'every setting of the command, after defaults' }),
    seed: z.number().nullable().default(null),
    command: z.string().nullable().default(null).meta({ description: 'the exact command line, shell-quoted' }),
    // Versions are strings by convention; anything else is shown as its JSON.
    versions: z
      .record(z.string(), z.unknown())
      .default({})
      .transform((v) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]))),
    threads: z.number().nullable().default(null),
    host: z.string().nullable().default(null),
    startedAt: z.string().nullable().default(null),
  });
}

/** The sha256 of a file's content, in hex: how run files name the exact weights or script they used. */
export const fileSha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A file's content as sha256 in hex; null where a file written before it was recorded lacks it. */
export const sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .nullable()
  .default(null);

/** A command's settings as recorded when no stricter schema applies (d2r eval's flags). */
export const anySettingsSchema = z.record(z.string(), z.unknown());

/** The facts of any run file, as its reader gets them. */
export type RunFacts = z.output<ReturnType<typeof runFactsSchema<typeof anySettingsSchema>>>;

/** A shell word: bare when safe, else single-quoted (POSIX: the whole rule, so no dependency). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Arguments as one line that a POSIX shell reads back as the same arguments. */
export const shellQuote = (args: string[]): string => args.map(shellWord).join(' ');

export function runFacts<C extends { seed: number }>(config: C) {
  return {
    config,
    seed: config.seed,
    command: shellQuote(['d2r', ...process.argv.slice(2)]),
    versions: { d2r: packageVersion(), node: process.version, libtorch: torch.libtorchVersion() },
    threads: torch.getNumThreads(),
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
}
