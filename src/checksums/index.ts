/**
 * S3's five checksum algorithms behind one incremental interface, with S3's
 * base64 encoding of the result, and CRC combination for the three CRCs.
 */
import { createHash, type Hash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { InvalidArgumentError } from '../core/errors.js';
import { S3ChecksumAlgorithm } from '../core/enums.js';
import { combineCrc } from './combine.js';
import { crc32Tables, crc32Update } from './crc.js';
import { crc32cUpdate, crc64nvmeUpdate } from './wasm-crc.js';

/** An incremental checksum. */
export interface Checksum {
  readonly algorithm: S3ChecksumAlgorithm;
  update(data: Uint8Array): this;
  /** The checksum's bytes, big-endian as S3 encodes them. */
  digest(): Buffer;
  /** The checksum as S3 writes it in `x-amz-checksum-*`: base64 of the digest. */
  digestBase64(): string;
  reset(): void;
}

const CRC32C_POLYNOMIAL = 0x82f63b78;
const CRC32_POLYNOMIAL = 0xedb88320;
const CRC64NVME_POLYNOMIAL = 0x9a6c9329ac4bc9b5n;

let crc32FallbackTables: Int32Array | undefined;

/** node:zlib's native crc32 where this Node has it (20.15 and later). */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** What every algorithm shares: S3's header form is base64 of the digest. */
abstract class ChecksumBase implements Checksum {
  abstract readonly algorithm: S3ChecksumAlgorithm;
  abstract update(data: Uint8Array): this;
  abstract digest(): Buffer;
  abstract reset(): void;
  digestBase64(): string {
    return this.digest().toString('base64');
  }
}

abstract class Crc32Base extends ChecksumBase {
  protected state = -1;
  get value(): number {
    return ~this.state >>> 0;
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.value);
    return out;
  }
  reset(): void {
    this.state = -1;
  }
}

/** CRC32C (Castagnoli). */
export class Crc32c extends Crc32Base {
  readonly algorithm = S3ChecksumAlgorithm.CRC32C;
  update(data: Uint8Array): this {
    this.state = crc32cUpdate(this.state, data);
    return this;
  }
}

/** CRC32 (ISO-HDLC, as zlib computes it). */
export class Crc32 extends Crc32Base {
  readonly algorithm = S3ChecksumAlgorithm.CRC32;
  update(data: Uint8Array): this {
    if (nativeCrc32) this.state = ~nativeCrc32(data, ~this.state >>> 0);
    else this.state = crc32Update((crc32FallbackTables ??= crc32Tables(CRC32_POLYNOMIAL)), this.state, data);
    return this;
  }
}

/** CRC64NVME (CRC-64/NVME). */
export class Crc64Nvme extends ChecksumBase {
  readonly algorithm = S3ChecksumAlgorithm.CRC64NVME;
  #state = -1n;
  update(data: Uint8Array): this {
    this.#state = crc64nvmeUpdate(this.#state, data);
    return this;
  }
  get value(): bigint {
    return BigInt.asUintN(64, ~this.#state);
  }
  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeBigUInt64BE(this.value);
    return out;
  }
  reset(): void {
    this.#state = -1n;
  }
}

class NodeHash extends ChecksumBase {
  readonly algorithm: S3ChecksumAlgorithm;
  readonly #name: string;
  #hash: Hash;
  constructor(algorithm: S3ChecksumAlgorithm, name: string) {
    super();
    this.algorithm = algorithm;
    this.#name = name;
    this.#hash = createHash(name);
  }
  update(data: Uint8Array): this {
    this.#hash.update(data);
    return this;
  }
  digest(): Buffer {
    return this.#hash.copy().digest();
  }
  reset(): void {
    this.#hash = createHash(this.#name);
  }
}

/** SHA-1, from node:crypto. */
export class Sha1 extends NodeHash {
  constructor() {
    super(S3ChecksumAlgorithm.SHA1, 'sha1');
  }
}

/** SHA-256, from node:crypto. */
export class Sha256 extends NodeHash {
  constructor() {
    super(S3ChecksumAlgorithm.SHA256, 'sha256');
  }
}

/** A new checksum of the given algorithm. */
export function createChecksum(algorithm: S3ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case S3ChecksumAlgorithm.CRC32C:
      return new Crc32c();
    case S3ChecksumAlgorithm.CRC32:
      return new Crc32();
    case S3ChecksumAlgorithm.CRC64NVME:
      return new Crc64Nvme();
    case S3ChecksumAlgorithm.SHA1:
      return new Sha1();
    case S3ChecksumAlgorithm.SHA256:
      return new Sha256();
    default:
      throw new InvalidArgumentError('algorithm', `is not a checksum algorithm: ${String(algorithm)}`);
  }
}

/** The algorithm's name as S3 writes it in headers and XML (`crc32c`, `sha256`, ...). */
export function checksumName(algorithm: S3ChecksumAlgorithm): string {
  return S3ChecksumAlgorithm[algorithm].toLowerCase();
}

/** The algorithm named in a header (`CRC32C`, `crc64nvme`, ...), or null. */
export function checksumAlgorithmNamed(name: string): S3ChecksumAlgorithm | null {
  const value = (S3ChecksumAlgorithm as unknown as Record<string, number>)[name.toUpperCase()];
  return typeof value === 'number' ? value : null;
}

/** Whether the algorithm is a CRC, whose part values combine into a full-object value. */
export function isCrc(algorithm: S3ChecksumAlgorithm): boolean {
  return algorithm === S3ChecksumAlgorithm.CRC32 || algorithm === S3ChecksumAlgorithm.CRC32C || algorithm === S3ChecksumAlgorithm.CRC64NVME;
}

const CRC_PARAMETERS: Partial<Record<S3ChecksumAlgorithm, { polynomial: bigint; width: number }>> = {
  [S3ChecksumAlgorithm.CRC32]: { polynomial: BigInt(CRC32_POLYNOMIAL), width: 32 },
  [S3ChecksumAlgorithm.CRC32C]: { polynomial: BigInt(CRC32C_POLYNOMIAL), width: 32 },
  [S3ChecksumAlgorithm.CRC64NVME]: { polynomial: CRC64NVME_POLYNOMIAL, width: 64 },
};

/**
 * The CRC of A followed by B from the two checksums as S3 encodes them (base64) and
 * B's length: how part checksums merge into a full-object checksum.
 */
export function combineChecksums(algorithm: S3ChecksumAlgorithm, a: string, b: string, lengthB: number): string {
  const parameters = CRC_PARAMETERS[algorithm];
  if (!parameters) throw new InvalidArgumentError('algorithm', `${S3ChecksumAlgorithm[algorithm]} values do not combine`);
  const bytes = parameters.width / 8;
  const read = (text: string) => BigInt(`0x${Buffer.from(text, 'base64').toString('hex') || '0'}`);
  const combined = combineCrc(read(a), read(b), lengthB, parameters.polynomial, parameters.width);
  return Buffer.from(combined.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}
