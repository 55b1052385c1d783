/**
 * The S3 operations of the local server, answering as S3 documents them: status codes, headers,
 * XML bodies and error codes. One module per group of operations; this one routes to them.
 */
import { checkBucketName } from '../router.js';
import { S3Error } from '../s3-error.js';
import { BUCKET_OPERATIONS } from './buckets.js';
import type { Operation, OperationContext } from './context.js';
import { LISTING_OPERATIONS } from './listing.js';
import { MULTIPART_OPERATIONS } from './multipart.js';
import { OBJECT_OPERATIONS } from './objects.js';
import { TAGGING_OPERATIONS } from './tagging.js';

export type { OperationContext } from './context.js';

const OPERATIONS: Record<string, Operation> = {
  ...BUCKET_OPERATIONS,
  ...OBJECT_OPERATIONS,
  ...TAGGING_OPERATIONS,
  ...MULTIPART_OPERATIONS,
  ...LISTING_OPERATIONS,
};

export async function handle(context: OperationContext): Promise<void> {
  if (context.route.operation === 'InvalidURI') throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  const operation = OPERATIONS[context.route.operation];
  if (!operation) {
    if (context.route.operation.startsWith('Unsupported:')) {
      throw new S3Error('NotImplemented', `The ${context.route.operation.slice('Unsupported:'.length)} sub-resource is not implemented by this server.`);
    }
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  if (context.route.bucket && context.route.operation !== 'ListBuckets') checkBucketName(context.route.bucket);
  await operation(context);
}
