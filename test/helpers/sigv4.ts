/**
 * SigV4 check of a request recorded by the s3rver proxy (s3rver itself does not check
 * signatures), with the local server's verifier, which the AWS SDK interop tests prove.
 */
import { verifySignature } from '../../src/local/sigv4.js';
import type { RecordedRequest } from './servers.js';

/** Whether the request's Authorization header is a valid SigV4 signature made with this secret. */
export function verifySigV4(request: RecordedRequest, secretAccessKey: string): boolean {
  try {
    return verifySignature({ method: request.method, url: request.url, headers: request.headers }, () => secretAccessKey) !== null;
  } catch {
    return false;
  }
}
