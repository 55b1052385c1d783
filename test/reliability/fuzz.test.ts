/**
 * The response parsers under random and truncated input: they return a value or null, or
 * (for error responses) a typed error object, and never throw anything else.
 */
import { describe, expect, it } from 'vitest';
import { S3ResponseError } from '../../src/index.js';
import { parseXml } from '../../src/protocol/xml.js';
import { responseError } from '../../src/protocol/error-response.js';
import { parseContentRange, parseRangeHeader } from '../../src/meta-request/part-planner.js';
import { xmlTreeProblem } from '../helpers/servers.js';

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}
const random = seeded(20261125);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Random text from pieces that matter to the parser, mutations of valid input, and cut-off valid input. */
function* inputs(valid: readonly string[], pieces: readonly string[], count: number): Generator<string> {
  for (const text of valid) for (let cut = 0; cut <= text.length; cut++) yield text.slice(0, cut);
  for (let i = 0; i < count; i++) {
    const kind = random();
    if (kind < 0.4) yield Array.from({ length: Math.floor(random() * 30) }, () => pick(pieces)).join('');
    else if (kind < 0.8) {
      const chars = [...pick(valid)];
      for (let m = 1 + Math.floor(random() * 4); m > 0; m--) chars[Math.floor(random() * chars.length)] = pick(pieces);
      yield chars.join('');
    } else yield Array.from({ length: Math.floor(random() * 64) }, () => String.fromCharCode(Math.floor(random() * 0x3000))).join('');
  }
}

const NUMBERS = ['0', '1', '9', '42', '-', '/', ' ', '*', 'bytes', 'bytes=', '99999999999999999999', '9007199254740993', '1e3', '0x10', ',', '\t'];

describe('response parsers under random input', () => {
  it('Content-Range: null or a consistent range of safe integers', () => {
    for (const text of inputs(['bytes 0-99/100', 'bytes 5242880-10485759/15728640', 'bytes */100'], NUMBERS, 20_000)) {
      const range = parseContentRange(text);
      if (range === null) continue;
      expect([range.start, range.end, range.total].every(Number.isSafeInteger), text).toBe(true);
      expect(range.start <= range.end && range.end < range.total, text).toBe(true);
    }
  });

  it('Range: null or a range of safe integers', () => {
    for (const text of inputs(['bytes=0-99', 'bytes=100-', 'bytes=-500', 'bytes=9007199254740993-', 'bytes=-99999999999999999999'], NUMBERS, 20_000)) {
      const range = parseRangeHeader(text);
      if (range === null) continue;
      const values = range.kind === 'suffix' ? [range.length] : [range.start, ...(range.end === null ? [] : [range.end])];
      expect(values.every(Number.isSafeInteger), text).toBe(true);
    }
  });

  const DOCUMENTS = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>ABC</RequestId></Error>',
    '<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><Part><PartNumber>1</PartNumber><ETag>"e"</ETag><Size>5242880</Size></Part><IsTruncated>false</IsTruncated></ListPartsResult>',
    '<InitiateMultipartUploadResult><UploadId>u&amp;v</UploadId></InitiateMultipartUploadResult>',
    '<CompleteMultipartUploadResult><ETag>&quot;x-2&quot;</ETag></CompleteMultipartUploadResult>',
  ];
  const XML_PIECES = ['<', '>', '</', '/>', 'Error', 'Code', 'Part', '&amp;', '&', '&#', ';', '"', '<![CDATA[', ']]>', '<!--', '-->', '<?', '?>', 'x', ' '];

  it('XML documents: null or plain objects', () => {
    for (const text of inputs(DOCUMENTS, XML_PIECES, 20_000)) {
      const document = parseXml(text);
      if (document !== null) expect(xmlTreeProblem(document), text).toBeNull();
    }
  });

  it('error responses: always an S3ResponseError with a code, whatever the body', () => {
    for (const text of inputs(DOCUMENTS, XML_PIECES, 5_000)) {
      const status = pick([200, 206, 301, 400, 403, 404, 412, 500, 503, 599, 999]);
      const error = responseError(status, { 'x-amz-request-id': pick(['r', undefined]) as string }, Buffer.from(text), pick(['UploadPart', null]));
      expect(error).toBeInstanceOf(S3ResponseError);
      expect(error.code.length).toBeGreaterThan(0);
      expect(error.statusCode).toBe(status);
    }
  });
});
