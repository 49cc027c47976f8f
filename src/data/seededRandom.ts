// A small seeded PRNG (xoshiro128**) owned by the data pipeline. Shuffling and
// augmentation draw from streams keyed by (seed, epoch, batch, purpose), so a
// run resumed at any epoch sees exactly the batches an unbroken run would,
// whatever else consumed libtorch's global random state meanwhile.

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of non-negative safe integers into a 32-bit value; different lists give unrelated values. */
function hashKey(key: readonly number[], salt: number): number {
  let h = fmix32(salt ^ 0x9e3779b9);
  for (const part of key) {
    if (!Number.isSafeInteger(part) || part < 0) throw new Error(`SeededRandom: key parts must be non-negative integers, got ${part}`);
    const low = part >>> 0;
    const high = Math.floor(part / 2 ** 32) >>> 0;
    h = fmix32(Math.imul(h ^ low, 0x01000193) + 0x7f4a7c15);
    h = fmix32(Math.imul(h ^ high, 0x01000193) + 0x7f4a7c15);
  }
  return h;
}

export class SeededRandom {
  private readonly s = new Uint32Array(4);

  /** A generator determined entirely by the key, e.g. new SeededRandom(seed, epoch, stream). */
  constructor(...key: number[]) {
    for (let i = 0; i < 4; i++) this.s[i] = hashKey(key, i + 1);
    if (this.s.every((v) => v === 0)) this.s[0] = 1; // the all-zero state never leaves zero
  }

  /** Uniform in 0..2^32-1. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform integer in 0..n-1 (unbiased: draws falling in the uneven tail are redrawn). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new Error(`nextInt(): n must be an integer in 1..2^32, got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  nextBoolean(): boolean {
    return (this.nextUint32() & 1) === 1;
  }

  /** Shuffles in place (Fisher-Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
