// Seeded mutations of valid files: bit flips, byte overwrites, truncation,
// splices and huge declared sizes. Input i of a run is a pure function of
// (seed, target, i) (see worker.ts), so any failing input can be regenerated on its own.
import { type SeededRandom } from '../../src/data/seededRandom.js';

/** Values that break size and offset fields: zero, all ones, sign bits, just past small limits. */
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
/** The same for text formats (JSON headers, listing files): numbers past every limit, signs, fractions. */
const INTERESTING_TEXT = [
  '0',
  '-1',
  '1e308',
  '-0',
  '0.5',
  '4294967296',
  '9007199254740993',
  '18446744073709551616',
  'null',
  '""',
  '[]',
  '{}',
  '"\\ud800"',
  '\u0000',
  '../../..',
];

const pick = <T>(random: SeededRandom, items: readonly T[]): T => items[random.nextInt(items.length)]!;

type Mutation = (bytes: Uint8Array, random: SeededRandom, donors: readonly Uint8Array[]) => Uint8Array;

const flipBits: Mutation = (bytes, random) => {
  const out = Uint8Array.from(bytes);
  const flips = 1 + random.nextInt(8);
  for (let k = 0; k < flips && out.length > 0; k++) out[random.nextInt(out.length)]! ^= 1 << random.nextInt(8);
  return out;
};

const overwriteBytes: Mutation = (bytes, random) => {
  const out = Uint8Array.from(bytes);
  const count = 1 + random.nextInt(4);
  for (let k = 0; k < count && out.length > 0; k++)
    out[random.nextInt(out.length)] = pick(random, [0, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x7d]);
  return out;
};

const truncate: Mutation = (bytes, random) => bytes.slice(0, random.nextInt(bytes.length + 1));

/** A region of the input or of another valid input inserted, duplicated or overwriting. */
const splice: Mutation = (bytes, random, donors) => {
  const donor = pick(random, [bytes, ...donors]);
  const from = random.nextInt(donor.length + 1);
  const piece = donor.subarray(from, from + random.nextInt(Math.min(donor.length - from, 4096) + 1));
  const at = random.nextInt(bytes.length + 1);
  const replace = random.nextBoolean() ? 0 : Math.min(piece.length, bytes.length - at);
  const out = new Uint8Array(bytes.length - replace + piece.length);
  out.set(bytes.subarray(0, at));
  out.set(piece, at);
  out.set(bytes.subarray(at + replace), at + piece.length);
  return out;
};

/** A 32- or 64-bit size field (either byte order) set to an extreme value. */
const hugeBinarySize: Mutation = (bytes, random) => {
  const out = Uint8Array.from(bytes);
  const width = random.nextBoolean() ? 4 : 8;
  if (out.length < width) return out;
  // Size fields sit in headers: favour the first bytes.
  const headerField = Math.min(4 * random.nextInt(8), out.length - width);
  const at = random.nextBoolean() ? headerField : random.nextInt(out.length - width + 1);
  const view = new DataView(out.buffer);
  const little = random.nextBoolean();
  if (width === 4) view.setUint32(at, pick(random, INTERESTING_U32), little);
  else view.setBigUint64(at, BigInt(pick(random, INTERESTING_U32)) << BigInt(pick(random, [0, 8, 16, 31, 32])), little);
  return out;
};

/** A run of digits (a declared size, offset or shape in text) replaced by an extreme value. */
const hugeTextNumber: Mutation = (bytes, random) => {
  const text = Buffer.from(bytes).toString('latin1');
  const numbers = [...text.matchAll(/\d+/g)];
  if (numbers.length === 0) return flipBits(bytes, random, []);
  const m = pick(random, numbers);
  const replaced = text.slice(0, m.index) + pick(random, INTERESTING_TEXT) + text.slice(m.index! + m[0].length);
  return Uint8Array.from(Buffer.from(replaced, 'latin1'));
};

const MUTATIONS: Mutation[] = [flipBits, overwriteBytes, truncate, splice, hugeBinarySize, hugeTextNumber];

/** One to three stacked mutations of `bytes`. */
export function mutate(bytes: Uint8Array, random: SeededRandom, donors: readonly Uint8Array[] = []): Uint8Array {
  let out = bytes;
  const rounds = 1 + random.nextInt(3);
  for (let k = 0; k < rounds; k++) out = pick(random, MUTATIONS)(out, random, donors);
  return out;
}
