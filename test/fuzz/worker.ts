// Runs one fuzz target on inputs [from, to) and reports on stdout, one line each:
//   ready                      the valid files are built; inputs start
//   start <i>                  input i is about to run (the parent times it)
//   violation <json>           input i broke the contract ({ i, problem })
//   errors <json>              at the end: how often each kind of error was thrown
// Usage: node worker.js <target> <seed> <from> <to> <dir> [keep]
// Input i's files go to <dir>/<i>, removed after the input unless `keep`; <dir>
// belongs to the caller, which removes it (this process may be killed mid-input).
import { writeSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SeededRandom } from '../../src/data/seededRandom.js';
import { mutate } from './mutate.js';
import { fuzzTarget, type FuzzTarget } from './targets.js';

const say = (line: string): void => {
  // Synchronous, so the parent knows which input was running if this process dies.
  writeSync(1, line + '\n');
};

/** The files of input i: the valid set with one file replaced by its mutation. */
export function fuzzInput(
  target: FuzzTarget,
  files: Record<string, Uint8Array>,
  seed: number,
  i: number,
): { files: Record<string, Uint8Array>; mutated: string } {
  // Keyed by the target's name, so adding targets never changes another's inputs.
  const random = new SeededRandom(seed, i, ...Buffer.from(target.name, 'utf8'));
  const names = Object.keys(files);
  const mutated = names[random.nextInt(names.length)]!;
  const donors = Object.entries(files)
    .filter(([name]) => name !== mutated)
    .map(([, bytes]) => bytes);
  return { files: { ...files, [mutated]: mutate(files[mutated]!, random, donors) }, mutated };
}

export function writeFiles(dir: string, files: Record<string, Uint8Array>): void {
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
}

/** What an input may do: return, or throw an Error naming a file of its folder (where it reads files). */
function contractBreach(target: FuzzTarget, err: unknown, dir: string): string | null {
  if (!(err instanceof Error)) return `threw a non-Error: ${typeof err} ${String(err).slice(0, 200)}`;
  if (target.mayThrow === false) return `threw though it never should: ${err.stack?.slice(0, 600)}`;
  if (target.namesFile !== false && !err.message.includes(dir)) return `error does not name the file: ${err.stack?.slice(0, 600)}`;
  return null;
}

/** A short name for a kind of error: its message without the path, numbers and quoted parts. */
function errorKind(err: unknown, dir: string): string {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return message
    .split(dir)
    .join('<dir>')
    .replace(/'[^']*'|"[^"]*"|\d+/g, '#')
    .slice(0, 120);
}

async function main(): Promise<void> {
  const [name, seedText, fromText, toText, root, keepText] = process.argv.slice(2);
  if (root === undefined)
    throw new Error('fuzz worker: the directory for the inputs is missing (usage: worker.js <target> <seed> <from> <to> <dir> [keep])');
  const keep = keepText === 'keep';
  const target = fuzzTarget(name!);
  const [seed, from, to] = [seedText, fromText, toText].map(Number) as [number, number, number];
  const valid = await target.files();
  const kinds = new Map<string, number>();
  say('ready');
  for (let i = from; i < to; i++) {
    say(`start ${i}`);
    const dir = join(root, String(i));
    writeFiles(dir, fuzzInput(target, valid, seed, i).files);
    try {
      await target.run(dir);
    } catch (err) {
      const breach = contractBreach(target, err, dir);
      if (breach !== null) say(`violation ${JSON.stringify({ i, problem: breach })}`);
      const kind = errorKind(err, dir);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  say(`errors ${JSON.stringify(Object.fromEntries(kinds))}`);
}

await main();
