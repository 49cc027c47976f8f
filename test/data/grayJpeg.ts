// A minimal baseline JPEG writer for single-channel (grayscale) images whose
// 8x8 blocks are each one flat gray level. jpeg-js only writes 3-channel
// JPEGs, and real Tiny-ImageNet contains 1-channel ones, so the tests need this
// to exercise the grayscale path. Flat blocks need only the DC coefficient:
// with all quantisation steps 1 it is 8 * (level - 128), and every block ends
// with the end-of-block code right away.

class BitWriter {
  readonly bytes: number[] = [];
  private current = 0;
  private filled = 0;

  write(value: number, length: number): void {
    for (let bit = length - 1; bit >= 0; bit--) {
      this.current = (this.current << 1) | ((value >> bit) & 1);
      if (++this.filled === 8) this.flushByte();
    }
  }

  /** Pads the last byte with 1 bits, as the JPEG standard asks. */
  finish(): number[] {
    while (this.filled !== 0) this.write(1, 1);
    return this.bytes;
  }

  private flushByte(): void {
    this.bytes.push(this.current);
    if (this.current === 0xff) this.bytes.push(0x00); // byte stuffing
    this.current = 0;
    this.filled = 0;
  }
}

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const segment = (marker: number, body: number[]): number[] => [0xff, marker, ...u16(body.length + 2), ...body];
const bitLength = (v: number): number => (v === 0 ? 0 : Math.floor(Math.log2(v)) + 1);

/** A grayscale JPEG of width x height (multiples of 8); blockLevels holds one gray level per 8x8 block in raster order. */
export function encodeGrayJpeg(width: number, height: number, blockLevels: number[]): Uint8Array {
  if (width % 8 !== 0 || height % 8 !== 0) throw new Error('encodeGrayJpeg: width and height must be multiples of 8');
  if (blockLevels.length !== (width / 8) * (height / 8)) throw new Error('encodeGrayJpeg: one level per 8x8 block');
  // DC table: categories 0..11, each with a 4-bit code equal to the category.
  const dcCounts = Array(16).fill(0);
  dcCounts[3] = 12;
  // AC table: only end-of-block (symbol 0x00), code '0'.
  const acCounts = Array(16).fill(0);
  acCounts[0] = 1;
  const bits = new BitWriter();
  let previous = 0;
  for (const level of blockLevels) {
    const dc = 8 * (level - 128);
    const diff = dc - previous;
    previous = dc;
    const category = bitLength(Math.abs(diff));
    bits.write(category, 4);
    if (category > 0) bits.write(diff >= 0 ? diff : diff + (1 << category) - 1, category);
    bits.write(0, 1);
  }
  return Uint8Array.from([
    0xff,
    0xd8,
    ...segment(0xdb, [0x00, ...Array(64).fill(1)]),
    ...segment(0xc0, [8, ...u16(height), ...u16(width), 1, 1, 0x11, 0]),
    ...segment(0xc4, [0x00, ...dcCounts, ...Array.from({ length: 12 }, (_, i) => i)]),
    ...segment(0xc4, [0x10, ...acCounts, 0x00]),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    ...bits.finish(),
    0xff,
    0xd9,
  ]);
}
