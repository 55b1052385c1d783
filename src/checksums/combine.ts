/**
 * CRC combination: the CRC of A followed by B from crc(A), crc(B) and the length
 * of B, without the data. Multiplying crc(A) by x^(8·len(B)) modulo the
 * polynomial shifts it past B's bytes; the zeros that shift it through cancel
 * the pre- and post-inversion terms of the reflected CRC. BigInt is fine here:
 * it runs once per part, never per byte.
 */

function multiplyModulo(a: bigint, b: bigint, polynomial: bigint, top: bigint): bigint {
  let product = 0n;
  for (let mask = top; mask > 0n; mask >>= 1n) {
    if (a & mask) product ^= b;
    b = b & 1n ? (b >> 1n) ^ polynomial : b >> 1n;
  }
  return product;
}

/** x^(8·bytes) modulo the polynomial, in the reflected representation. */
function shiftOperator(bytes: bigint, polynomial: bigint, width: number): bigint {
  const top = 1n << BigInt(width - 1);
  let result = top; // x^0
  let square = top >> 8n; // x^8: one byte
  while (bytes > 0n) {
    if (bytes & 1n) result = multiplyModulo(square, result, polynomial, top);
    square = multiplyModulo(square, square, polynomial, top);
    bytes >>= 1n;
  }
  return result;
}

/** crc(A || B) for a reflected CRC of `width` bits with the usual all-ones init and final xor. */
export function combineCrc(crcA: bigint, crcB: bigint, lengthB: number, polynomial: bigint, width: number): bigint {
  if (lengthB === 0) return crcA;
  const top = 1n << BigInt(width - 1);
  return multiplyModulo(shiftOperator(BigInt(lengthB), polynomial, width), crcA, polynomial, top) ^ crcB;
}
