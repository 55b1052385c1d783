/**
 * A table-driven reflected CRC32 in JavaScript, for a Node without node:zlib's
 * crc32. The hot loop reads the data as aligned 32-bit words (four bytes per load
 * instead of one, on little-endian machines) and uses "slicing" tables so that one
 * step consumes 16 bytes. Unaligned heads, tails and big-endian machines take the
 * byte-at-a-time path. CRC32C and CRC64NVME run in WebAssembly (wasm-crc.ts).
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
