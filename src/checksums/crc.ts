/**
 * Table-driven reflected CRCs. The hot loops read the data as aligned 32-bit
 * words (four bytes per load instead of one, on little-endian machines) and
 * use "slicing" tables so that one step consumes 16 bytes (32-bit CRCs) or
 * 8 bytes (CRC64, held as two 32-bit halves so that no BigInt touches the loop).
 * Unaligned heads, tails and big-endian machines take the byte-at-a-time path.
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/** Sixteen 256-entry tables for a reflected 32-bit polynomial: table k advances a byte k+1 places further. */
export function crc32Tables(polynomial: number): Int32Array {
  const tables = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 16; k++) {
      const previous = tables[(k - 1) * 256 + n]!;
      tables[k * 256 + n] = (previous >>> 8) ^ tables[previous & 0xff]!;
    }
  }
  return tables;
}

/** Advances a 32-bit CRC register (pre-inverted state) over `data`. */
export function crc32Update(t: Int32Array, state: number, data: Uint8Array): number {
  let crc = state | 0;
  const length = data.length;
  let i = 0;
  while (i < length && (data.byteOffset + i) & 3) crc = (crc >>> 8) ^ t[(crc ^ data[i++]!) & 0xff]!;
  if (LITTLE_ENDIAN && length - i >= 16) {
    const words = new Int32Array(data.buffer, data.byteOffset + i, (length - i) >>> 2);
    const end = words.length - 3;
    let w = 0;
    for (; w < end; w += 4) {
      const a = words[w]! ^ crc;
      const b = words[w + 1]!;
      const c = words[w + 2]!;
      const d = words[w + 3]!;
      crc =
        t[3840 + (a & 0xff)]! ^
        t[3584 + ((a >>> 8) & 0xff)]! ^
        t[3328 + ((a >>> 16) & 0xff)]! ^
        t[3072 + (a >>> 24)]! ^
        t[2816 + (b & 0xff)]! ^
        t[2560 + ((b >>> 8) & 0xff)]! ^
        t[2304 + ((b >>> 16) & 0xff)]! ^
        t[2048 + (b >>> 24)]! ^
        t[1792 + (c & 0xff)]! ^
        t[1536 + ((c >>> 8) & 0xff)]! ^
        t[1280 + ((c >>> 16) & 0xff)]! ^
        t[1024 + (c >>> 24)]! ^
        t[768 + (d & 0xff)]! ^
        t[512 + ((d >>> 8) & 0xff)]! ^
        t[256 + ((d >>> 16) & 0xff)]! ^
        t[d >>> 24]!;
    }
    i += w * 4;
  }
  for (; i < length; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
  return crc;
}

/** Eight tables (low and high 32-bit halves) for a reflected 64-bit polynomial. */
export function crc64Tables(polynomial: bigint): { low: Int32Array; high: Int32Array } {
  const low = new Int32Array(8 * 256);
  const high = new Int32Array(8 * 256);
  const first: bigint[] = [];
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ polynomial : c >> 1n;
    first.push(c);
  }
  const all: bigint[] = [...first];
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = all[(k - 1) * 256 + n]!;
      all[k * 256 + n] = (previous >> 8n) ^ first[Number(previous & 0xffn)]!;
    }
  }
  all.forEach((value, index) => {
    low[index] = Number(value & 0xffffffffn) | 0;
    high[index] = Number(value >> 32n) | 0;
  });
  return { low, high };
}

/** Advances a 64-bit CRC register held as [low, high] 32-bit halves. */
export function crc64Update(tables: { low: Int32Array; high: Int32Array }, state: [number, number], data: Uint8Array): void {
  const { low: tl, high: th } = tables;
  let lo = state[0] | 0;
  let hi = state[1] | 0;
  const length = data.length;
  let i = 0;
  const byte = (value: number) => {
    const index = (lo ^ value) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ tl[index]!;
    hi = (hi >>> 8) ^ th[index]!;
  };
  while (i < length && (data.byteOffset + i) & 3) byte(data[i++]!);
  if (LITTLE_ENDIAN && length - i >= 8) {
    const words = new Int32Array(data.buffer, data.byteOffset + i, (length - i) >>> 2);
    const end = words.length - 1;
    let w = 0;
    for (; w < end; w += 2) {
      const a = words[w]! ^ lo;
      const b = words[w + 1]! ^ hi;
      const i7 = 1792 + (a & 0xff);
      const i6 = 1536 + ((a >>> 8) & 0xff);
      const i5 = 1280 + ((a >>> 16) & 0xff);
      const i4 = 1024 + (a >>> 24);
      const i3 = 768 + (b & 0xff);
      const i2 = 512 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      lo = tl[i7]! ^ tl[i6]! ^ tl[i5]! ^ tl[i4]! ^ tl[i3]! ^ tl[i2]! ^ tl[i1]! ^ tl[i0]!;
      hi = th[i7]! ^ th[i6]! ^ th[i5]! ^ th[i4]! ^ th[i3]! ^ th[i2]! ^ th[i1]! ^ th[i0]!;
    }
    i += w * 4;
  }
  for (; i < length; i++) byte(data[i]!);
  state[0] = lo;
  state[1] = hi;
}
