/**
 * The rules of each request type (S3RequestType): what a GET_OBJECT, PUT_OBJECT, COPY_OBJECT or
 * DEFAULT request may be given, checked before anything is sent, and the meta request that carries
 * it out. makeRequest has checked what every type shares.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { S3RequestType } from '../core/enums.js';
import { InvalidArgumentError } from '../core/errors.js';
import { AutoRangedGet } from '../meta-request/auto-ranged-get.js';
import { AutoRangedPut, type AutoRangedPutOptions, type PutBody, type S3ResumeToken } from '../meta-request/auto-ranged-put.js';
import { CopyObject } from '../meta-request/copy-object.js';
import { DefaultRequest } from '../meta-request/default-request.js';
import type { MetaRequest, MetaRequestContext, PartRequest, S3RequestCallbacks } from '../meta-request/meta-request.js';
import { parseRangeHeader } from '../meta-request/part-planner.js';
import type { ChecksumSource, RequestChecksum } from '../meta-request/request-checksum.js';
import { describe, requirePositiveInteger } from './options.js';
import {
  asAsyncIterable,
  asBuffer,
  copySourceLocation,
  declaredLength,
  isBufferLike,
  isStreamBody,
  parseCopySource,
  type Endpoint,
  type S3RequestOptions,
} from './request-options.js';

/** What makeRequest has checked and resolved for every type, that the rules of one type build on. */
export interface CheckedRequest {
  options: S3RequestOptions;
  /** The request as its parts start from: method, encoded path, query, headers without Host. */
  base: PartRequest;
  endpoint: Endpoint;
  sendFile: { path: string; size: number } | null;
  recvFilepath: string | null;
  body: unknown;
  partSize: number;
  threshold: number;
  checksum: RequestChecksum | null;
  validate: boolean;
  /** The client's memory limit, which one part must fit in. */
  memoryLimit: number;
}

/** The meta request that carries out a request of `type`; throws InvalidArgumentError for what the type does not take. */
export function createMetaRequest(type: S3RequestType, context: MetaRequestContext, callbacks: S3RequestCallbacks, request: CheckedRequest): MetaRequest {
  const { options, base, endpoint, sendFile, recvFilepath, body, partSize, threshold, checksum, validate, memoryLimit } = request;
  switch (type) {
    case S3RequestType.GET_OBJECT:
      if (options.readAhead !== undefined) requirePositiveInteger('readAhead', options.readAhead);
      if (options.resumable !== undefined && typeof options.resumable !== 'boolean') throw new InvalidArgumentError('resumable', 'must be a boolean');
      if (options.resumable && !recvFilepath) throw new InvalidArgumentError('resumable', 'needs recvFilepath: it is the partial file that is resumed');
      if (options.resumable && validate) {
        throw new InvalidArgumentError('resumable', 'cannot be combined with validateResponse: the parts written earlier are not read again');
      }
      return autoRangedGet(
        context,
        callbacks,
        base,
        partSize,
        recvFilepath,
        validate,
        options.readAhead ?? null,
        options.resumable ?? false,
        memoryLimit,
      );
    case S3RequestType.PUT_OBJECT:
      return autoRangedPut(context, callbacks, base, sendFile, body, partSize, threshold, checksum, checkResume(options), memoryLimit);
    case S3RequestType.COPY_OBJECT:
      return copyObject(context, callbacks, base, endpoint, partSize, threshold, options.copySourceSize);
    default:
      return new DefaultRequest(context, callbacks, {
        request: defaultBody(base, sendFile, body),
        recvFilepath,
        checksum: checksum && { ...checksum, source: checksumSource(sendFile, body) },
        validate,
      });
  }
}

function autoRangedGet(
  context: MetaRequestContext,
  callbacks: S3RequestCallbacks,
  base: PartRequest,
  partSize: number,
  recvFilepath: string | null,
  validate: boolean,
  readAhead: number | null,
  resumable: boolean,
  memoryLimit: number,
): MetaRequest {
  const rangeHeader = base.headers.range;
  const range = rangeHeader === undefined ? null : parseRangeHeader(rangeHeader);
  if (rangeHeader !== undefined && !range)
    throw new InvalidArgumentError('request.headers.range', `must be a single range such as "bytes=0-99", got ${describe(rangeHeader)}`);
  checkFits(memoryLimit, 'partSize', partSize);
  const headers = { ...base.headers };
  delete headers.range;
  return new AutoRangedGet(context, callbacks, {
    request: { ...base, method: 'GET', headers },
    range,
    partSize,
    recvFilepath,
    validate,
    readAhead,
    resumable,
  });
}

function autoRangedPut(
  context: MetaRequestContext,
  callbacks: S3RequestCallbacks,
  base: PartRequest,
  sendFile: { path: string; size: number } | null,
  body: unknown,
  partSize: number,
  threshold: number,
  checksum: RequestChecksum | null,
  resume: Pick<AutoRangedPutOptions, 'resume' | 'onResumeToken' | 'abortOnFailure'>,
  memoryLimit: number,
): MetaRequest {
  let putBody: PutBody;
  if (sendFile) putBody = { kind: 'file', ...sendFile };
  else if (isStreamBody(body)) {
    if (resume.resume)
      throw new InvalidArgumentError('resumeToken', 'a resumed upload reads its body again: give a file (sendFilepath) or a Buffer, not a stream');
    putBody = { kind: 'stream', source: asAsyncIterable(body), size: declaredLength(base.headers) };
  } else putBody = { kind: 'buffer', data: body === undefined || body === null ? Buffer.alloc(0) : asBuffer(body as string) };
  let largest: number;
  try {
    largest = AutoRangedPut.largestLease(putBody, partSize, threshold);
  } catch (error) {
    throw new InvalidArgumentError('partSize', (error as Error).message);
  }
  checkFits(memoryLimit, putBody.kind === 'stream' && AutoRangedPut.sizeOf(putBody)! <= threshold ? 'multipartUploadThreshold' : 'partSize', largest);
  const headers = { ...base.headers };
  delete headers['content-length'];
  return new AutoRangedPut(context, callbacks, {
    request: { ...base, method: 'PUT', headers },
    body: putBody,
    partSize,
    multipartUploadThreshold: threshold,
    checksum,
    ...resume,
  });
}

function copyObject(
  context: MetaRequestContext,
  callbacks: S3RequestCallbacks,
  base: PartRequest,
  endpoint: Endpoint,
  partSize: number,
  threshold: number,
  sourceSize: number | undefined,
): MetaRequest {
  if (base.method !== 'PUT') throw new InvalidArgumentError('request.method', `a COPY_OBJECT is a PUT, got ${describe(base.method)}`);
  const source = parseCopySource(base.headers['x-amz-copy-source']);
  if (sourceSize !== undefined && (!Number.isSafeInteger(sourceSize) || sourceSize < 0)) {
    throw new InvalidArgumentError('copySourceSize', `must be a whole number of bytes, got ${describe(sourceSize)}`);
  }
  let head: PartRequest | null = null;
  if (sourceSize === undefined) {
    const location = copySourceLocation(source, endpoint);
    const conditions = Object.fromEntries(
      Object.entries(base.headers)
        .filter(([name]) => name.startsWith('x-amz-copy-source-') && name !== 'x-amz-copy-source-range')
        .map(([name, value]) => [name.replace('x-amz-copy-source-', name.includes('server-side-encryption') ? 'x-amz-' : ''), value]),
    );
    head = {
      operationName: 'HeadObject',
      method: 'HEAD',
      path: location.path,
      query: source.versionId ? { versionId: source.versionId } : {},
      headers: conditions,
      endpoint: location.endpoint,
    };
  }
  return new CopyObject(context, callbacks, { request: base, head, sourceSize: sourceSize ?? null, partSize, multipartUploadThreshold: threshold });
}

/** A transfer whose one part is larger than the memory limit could never start. */
function checkFits(memoryLimit: number, option: string, bytes: number): void {
  if (bytes > memoryLimit) throw new InvalidArgumentError(option, `a part of ${bytes} bytes does not fit in memoryLimit (${memoryLimit} bytes)`);
}

/** The resume options of a PUT_OBJECT, checked. */
function checkResume(options: S3RequestOptions): Pick<AutoRangedPutOptions, 'resume' | 'onResumeToken' | 'abortOnFailure'> {
  const { resumeToken, onResumeToken, abortOnFailure = true } = options;
  if (resumeToken !== undefined) {
    const { uploadId, partSize, totalSize } = (resumeToken ?? {}) as Partial<S3ResumeToken>;
    if (typeof uploadId !== 'string' || uploadId === '' || !Number.isSafeInteger(partSize) || !Number.isSafeInteger(totalSize)) {
      throw new InvalidArgumentError('resumeToken', 'must be { uploadId, partSize, totalSize } as given to onResumeToken');
    }
  }
  if (onResumeToken !== undefined && typeof onResumeToken !== 'function') throw new InvalidArgumentError('onResumeToken', 'must be a function');
  if (typeof abortOnFailure !== 'boolean') throw new InvalidArgumentError('abortOnFailure', `must be a boolean, got ${describe(abortOnFailure)}`);
  return { resume: resumeToken ?? null, onResumeToken: onResumeToken ?? null, abortOnFailure };
}

/** What a DEFAULT request's checksum is computed over: a Buffer or a file. A caller's stream can be read only once. */
function checksumSource(sendFile: { path: string; size: number } | null, body: unknown): ChecksumSource {
  if (sendFile) return { kind: 'file', ...sendFile };
  if (body === undefined || body === null) throw new InvalidArgumentError('checksumConfig.algorithm', 'this request has no body to put a checksum on');
  if (isBufferLike(body)) return { kind: 'buffer', data: asBuffer(body) };
  throw new InvalidArgumentError('checksumConfig.algorithm', 'a DEFAULT request with a checksum needs a Buffer or sendFilepath body, not a stream');
}

/** A DEFAULT request's body: a file opened afresh for each attempt, a Buffer, or a caller's stream, which can be sent once. */
function defaultBody(base: PartRequest, sendFile: { path: string; size: number } | null, body: unknown): PartRequest {
  if (sendFile) return { ...base, body: () => createReadStream(sendFile.path, { highWaterMark: 1024 * 1024 }), bodyLength: sendFile.size };
  if (body === undefined || body === null) return base;
  if (isBufferLike(body)) return { ...base, body: asBuffer(body) };
  const stream = isStreamBody(body) ? asAsyncIterable(body) : null;
  const length = declaredLength(base.headers);
  return {
    ...base,
    body: () => (stream instanceof Readable ? stream : Readable.from(stream!)),
    ...(length !== null ? { bodyLength: length } : {}),
    oneShot: true,
  };
}
