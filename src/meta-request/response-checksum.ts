/**
 * Validating a response body against the checksum S3 stored for the object. A full-object value
 * is checked against the whole download (combined from the parts' CRCs where it can be); a
 * composite value (`...-N`) describes the upload's parts, so the download then fetches by part
 * number and checks each part against the checksum S3 sends with it, and the parts together
 * against the object's value. A composite whose parts cannot be placed is not checked, and onDone
 * says so.
 */
import { S3ChecksumAlgorithm } from '../core/enums.js';
import { ChecksumMismatchError } from '../core/errors.js';
import { headerValue } from '../http/headers.js';
import { checksumName, combineChecksums, createChecksum, isCrc, type Checksum } from '../checksums/index.js';
import type { ResponseHeaders } from './meta-request.js';

const ALGORITHMS = [S3ChecksumAlgorithm.CRC64NVME, S3ChecksumAlgorithm.CRC32C, S3ChecksumAlgorithm.CRC32, S3ChecksumAlgorithm.SHA256, S3ChecksumAlgorithm.SHA1];

export class ResponseChecksum {
  readonly algorithm: S3ChecksumAlgorithm;
  readonly expected: string;
  /** For bytes that arrive in order. */
  readonly #running: Checksum;
  /** For parts that arrive in any order: each part's CRC, by index, combined at the end. */
  readonly #parts: Array<{ value: string; size: number }> = [];

  private constructor(algorithm: S3ChecksumAlgorithm, expected: string) {
    this.algorithm = algorithm;
    this.expected = expected;
    this.#running = createChecksum(algorithm);
  }

  /** The full-object checksum named by response headers, or null when there is none to check. */
  static fromHeaders(headers: ResponseHeaders): ResponseChecksum | null {
    if (headerValue(headers, 'x-amz-checksum-type')?.toUpperCase() === 'COMPOSITE') return null;
    for (const algorithm of ALGORITHMS) {
      const value = headerValue(headers, `x-amz-checksum-${checksumName(algorithm)}`);
      if (value !== undefined && !/-\d+$/.test(value)) return new ResponseChecksum(algorithm, value);
    }
    return null;
  }

  /** Whether parts may be checked out of order (a CRC, combined at the end). */
  get combinable(): boolean {
    return isCrc(this.algorithm);
  }

  /** Feeds bytes in order of offset. */
  update(data: Uint8Array): void {
    this.#running.update(data);
  }

  /** Records one part's CRC (its digest bytes); parts may come in any order. */
  addPart(index: number, digest: Buffer, size: number): void {
    this.#parts[index] = { value: digest.toString('base64'), size };
  }

  /** Compares what was received with the stored value; throws ChecksumMismatchError when they differ. */
  verify(): void {
    let actual: string;
    if (this.#parts.length > 0) {
      const [first, ...rest] = this.#parts;
      actual = rest.reduce((value, part) => combineChecksums(this.algorithm, value, part.value, part.size), first!.value);
    } else {
      actual = this.#running.digestBase64();
    }
    if (actual !== this.expected) throw new ChecksumMismatchError(S3ChecksumAlgorithm[this.algorithm], this.expected, actual);
  }
}

/**
 * A composite checksum (`<checksum of the part checksums>-N`), checked part by part: each
 * part is fetched by its part number, S3 sends that part's checksum with it, the bytes are
 * checked against it, and the part checksums together must give the object's value.
 */
export class CompositeChecksum {
  readonly algorithm: S3ChecksumAlgorithm;
  readonly expected: string;
  readonly parts: number;
  readonly #digests: Buffer[] = [];

  private constructor(algorithm: S3ChecksumAlgorithm, expected: string, parts: number) {
    this.algorithm = algorithm;
    this.expected = expected;
    this.parts = parts;
  }

  /** The composite checksum named by response headers, or null. */
  static fromHeaders(headers: ResponseHeaders): CompositeChecksum | null {
    for (const algorithm of ALGORITHMS) {
      const value = headerValue(headers, `x-amz-checksum-${checksumName(algorithm)}`);
      const match = value === undefined ? null : /^(.+)-(\d+)$/.exec(value);
      if (match) return new CompositeChecksum(algorithm, value!, Number(match[2]));
    }
    return null;
  }

  /** Checks one part's checksum (its digest bytes) against the one S3 sent with it. */
  checkPart(index: number, digest: Buffer, headers: ResponseHeaders): void {
    const name = S3ChecksumAlgorithm[this.algorithm];
    const sent = headerValue(headers, `x-amz-checksum-${checksumName(this.algorithm)}`);
    if (sent === undefined) throw new ChecksumMismatchError(name, `a ${name} for part ${index + 1}`, digest.toString('base64'));
    if (sent !== digest.toString('base64')) throw new ChecksumMismatchError(name, sent, digest.toString('base64'));
    this.#digests[index] = digest;
  }

  /** Checks that the parts' checksums make up the object's composite value. */
  verify(): void {
    const composite = createChecksum(this.algorithm);
    for (const digest of this.#digests) composite.update(digest);
    const actual = `${composite.digestBase64()}-${this.#digests.length}`;
    if (actual !== this.expected) throw new ChecksumMismatchError(S3ChecksumAlgorithm[this.algorithm], this.expected, actual);
  }
}
