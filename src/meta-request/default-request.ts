/**
 * Any other S3 operation, sent as one request. Every operation but GetObject
 * has its body checked for an `<Error>` document even on 200 OK, so its body is
 * kept whole (S3's answers to these are small) and handed over once checked;
 * GetObject's body streams through as it arrives.
 */
import type { Lease } from './buffer-pool.js';
import { FileTarget } from './file-target.js';
import { withChecksum, type ChecksumSource, type RequestChecksum } from './request-checksum.js';
import { ResponseChecksum } from './response-checksum.js';
import { CollectTarget, MetaRequest, type BodyTarget, type MetaRequestContext, type PartRequest, type S3RequestCallbacks } from './meta-request.js';

export interface DefaultRequestOptions {
  request: PartRequest;
  recvFilepath: string | null;
  /** A checksum for the request body, and the bytes it is computed over. */
  checksum: (RequestChecksum & { source: ChecksumSource }) | null;
  /** Compare a GetObject body with the checksum S3 stored (checksumConfig.validateResponse). */
  validate: boolean;
}

export class DefaultRequest extends MetaRequest {
  readonly #request: PartRequest;
  readonly #recvFilepath: string | null;
  readonly #checksum: DefaultRequestOptions['checksum'];
  readonly #validate: boolean;
  #expected: ResponseChecksum | null = null;
  #started = false;
  #file: FileTarget | null = null;

  constructor(context: MetaRequestContext, callbacks: S3RequestCallbacks, options: DefaultRequestOptions) {
    super(context, callbacks);
    this.#request = options.request;
    this.#recvFilepath = options.recvFilepath;
    this.#checksum = options.checksum;
    this.#validate = options.validate && options.request.operationName === 'GetObject';
  }

  nextPartMemory(): number | null {
    return this.#started ? null : 0;
  }

  startNextPart(_lease: Lease | null): Promise<void> {
    this.#started = true;
    return this.track(() => this.#run());
  }

  async #run(): Promise<void> {
    if (this.#recvFilepath) this.#file = await FileTarget.create(this.#recvFilepath);
    const streaming = this.#request.operationName === 'GetObject';
    const collected = new CollectTarget();
    const target = streaming ? this.#streamingTarget() : collected;
    let request = this.#checksum ? await withChecksum(this.#request, this.#checksum.source, this.#checksum, () => {}) : this.#request;
    if (this.#validate) request = { ...request, headers: { ...request.headers, 'x-amz-checksum-mode': 'ENABLED' } };
    const response = await this.send(request, target, { checkErrorBody: !streaming });
    if (this.#expected) {
      this.#expected.verify();
      this.validatedChecksum = this.#expected.algorithm;
    }
    this.emitHeaders(response.statusCode, response.headers);
    if (!streaming && response.length > 0) this.#deliver(collected.body, 0);
    await this.succeedWith(async () => {
      await this.#file?.commit();
      this.#file = null;
      return response.statusCode;
    });
  }


  #deliver(chunk: Buffer, offset: number): void {
    if (this.#file) this.#file.append(chunk);
    else this.callUser(this.callbacks.onBody, chunk, offset);
    this.progress(chunk.length);
  }

  #streamingTarget(): BodyTarget {
    let committed = false;
    return {
      start: (statusCode, headers) => {
        // A partial body cannot be checked against the whole object's checksum.
        if (this.#validate && statusCode === 200) this.#expected = ResponseChecksum.fromHeaders(headers);
        this.emitHeaders(statusCode, headers);
      },
      data: (chunk, offset) => {
        committed = true;
        this.#expected?.update(chunk);
        this.#deliver(chunk, offset);
      },
      get committed() {
        return committed;
      },
    };
  }

  protected async cleanUpAfterFailure(): Promise<void> {
    await this.#file?.discard();
    this.#file = null;
  }
}
