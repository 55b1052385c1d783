/**
 * Table-driven reflected CRCs, eight bytes per step ("slicing by 8"): CRC32C and
 * CRC32 in 32-bit integers, CRC64NVME as two 32-bit halves so that no BigInt
 * touches the hot loop. Each table set is built on first use.
 */

/** Eight 256-entry tables for a reflected 32-bit polynomial. */
export function crc32Tables(polynomial: number): Int32Array {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const previous = tables[(k - 1) * 256 + n]!;
      tables[k * 256 + n] = (previous >>> 8) ^ tables[previous & 0xff]!;
    }
  }
  return tables;
}

/** Advances a 32-bit CRC register (pre-inverted state) over `data`. */
export function crc32Update(tables: Int32Array, state: number, data: Uint8Array): number {
  let crc = state | 0;
  const length = data.length;
  let i = 0;
  for (const end = length - 7; i < end; i += 8) {
    const one = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ crc;
    const two = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
    crc =
      tables[1792 + (one & 0xff)]! ^
      tables[1536 + ((one >>> 8) & 0xff)]! ^
      tables[1280 + ((one >>> 16) & 0xff)]! ^
      tables[1024 + (one >>> 24)]! ^
      tables[768 + (two & 0xff)]! ^
      tables[512 + ((two >>> 8) & 0xff)]! ^
      tables[256 + ((two >>> 16) & 0xff)]! ^
      tables[two >>> 24]!;
  }
  for (; i < length; i++) crc = (crc >>> 8) ^ tables[(crc ^ data[i]!) & 0xff]!;
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
  for (const end = length - 7; i < end; i += 8) {
    const a = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ lo;
    const b = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) ^ hi;
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
  for (; i < length; i++) {
    const index = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ tl[index]!;
    hi = (hi >>> 8) ^ th[index]!;
  }
  state[0] = lo;
  state[1] = hi;
}
