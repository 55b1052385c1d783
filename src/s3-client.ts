/**
 * S3Client: the engine's client (client/s3-client-core.ts) with the high-level methods, named
 * after what they do (upload, download, copy, folders, listing), each over makeRequest. Each
 * method imports its module (transfer/) on first use: a client that only calls makeRequest, as a
 * serverless function often does, never loads them (measured in bench/RESULTS.md, Serverless).
 */
import { readFileSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { AwsCredentialsProvider } from './auth/credentials.js';
import { createDefaultS3SigningConfig } from './auth/signing.js';
import { checkChecksumCalculation, type S3ClientOptions } from './client/options.js';
import { S3ClientCore } from './client/s3-client-core.js';
import { InvalidArgumentError } from './core/errors.js';
import { readProfile, requireProfile, resolveProfileName, resolveEndpointConfig, type AddressingStyle, type ProfileSettings } from './protocol/endpoint.js';
import type { CopyOptions, CopyResult } from './transfer/copy.js';
import type { DirectoryResult, DownloadDirectoryOptions, S3Prefix, UploadDirectoryOptions } from './transfer/directories.js';
import type { DownloadOptions, DownloadResult, DownloadSource } from './transfer/download.js';
import type { DeleteObjectsResult, ListEntry, ListOptions, ObjectInfo } from './transfer/objects.js';
import type { UploadOptions, UploadResult } from './transfer/upload.js';

/** Options of {@link S3Client.fromEnvironment}: any client option, and the settings the AWS CLI takes as flags. */
export interface FromEnvironmentOptions extends Partial<S3ClientOptions> {
  /** Profile of the shared config and credentials files; `AWS_PROFILE`, else `default`. */
  profile?: string;
  /**
   * Path of a PEM file of CA certificates to trust instead of the default store (the AWS CLI's
   * `--ca-bundle`); else `AWS_CA_BUNDLE`, else the profile's `ca_bundle`. Ignored when
   * `tlsConnectionOptions.ca` is given.
   */
  caBundle?: string;
  /** How buckets are addressed (`path`, `virtual`, `auto`) when `forcePathStyle` is not given; else the profile's `s3 = addressing_style`. */
  addressingStyle?: AddressingStyle;
  /**
   * Send every request unsigned, for public buckets (the AWS CLI's `--no-sign-request`): no
   * credentials are looked up. Ignored when `signingConfig` is given.
   */
  anonymous?: boolean;
}

/** Splits S3 GETs and PUTs into parts and runs them over many connections at once. */
export class S3Client extends S3ClientCore {
  /**
   * A client configured as the AWS SDKs configure theirs: region from the options, `AWS_REGION`,
   * `AWS_DEFAULT_REGION` or the profile; endpoint from the options, `AWS_ENDPOINT_URL_S3`,
   * `AWS_ENDPOINT_URL` or the profile (`endpoint_url`, `s3 = endpoint_url / addressing_style`);
   * trusted CAs from `caBundle`, `AWS_CA_BUNDLE` or the profile's `ca_bundle`, read once here;
   * credentials from the SDK's default chain for the profile (`AWS_PROFILE`), unless given.
   * An `http://` endpoint turns TLS off.
   */
  static fromEnvironment(options: FromEnvironmentOptions = {}): S3Client {
    const { profile: profileName, caBundle, addressingStyle, anonymous, ...rest } = options;
    // A profile asked for by name must exist (the AWS CLI's rule); AWS_PROFILE alone is read as the SDK reads it.
    if (profileName !== undefined) requireProfile(profileName);
    const profile = readProfile(profileName);
    const endpointConfig = resolveEndpointConfig({
      ...(rest.region ? { region: rest.region } : {}),
      ...(rest.endpoint ? { endpoint: rest.endpoint } : {}),
      ...(rest.forcePathStyle !== undefined ? { forcePathStyle: rest.forcePathStyle } : {}),
      ...(addressingStyle !== undefined ? { addressingStyle } : {}),
      env: process.env,
      profile,
    });
    // Any endpoint but AWS's regional default was configured (a China, FIPS or dualstack host too) and is kept.
    const regionalDefault = `https://s3.${endpointConfig.region}.amazonaws.com/`;
    const configured = rest.endpoint ?? (endpointConfig.endpoint.href === regionalDefault ? undefined : endpointConfig.endpoint.href);
    const ca = rest.tlsConnectionOptions?.ca === undefined ? readCaBundle(caBundle, profile, profileName) : undefined;
    // As the SDKs read it: the environment, else the profile.
    const calculation = process.env.AWS_REQUEST_CHECKSUM_CALCULATION
      ? checkChecksumCalculation('AWS_REQUEST_CHECKSUM_CALCULATION', process.env.AWS_REQUEST_CHECKSUM_CALCULATION)
      : profile.request_checksum_calculation
        ? checkChecksumCalculation(`request_checksum_calculation of profile ${resolveProfileName(profileName)}`, profile.request_checksum_calculation)
        : undefined;
    return new S3Client({
      ...(anonymous
        ? {}
        : {
            signingConfig: createDefaultS3SigningConfig({
              region: endpointConfig.region,
              credentialProvider: AwsCredentialsProvider.newDefaultChain(profileName),
            }),
          }),
      ...(calculation ? { requestChecksumCalculation: calculation } : {}),
      ...rest,
      region: endpointConfig.region,
      forcePathStyle: endpointConfig.forcePathStyle,
      ...(configured ? { endpoint: configured } : {}),
      ...(ca ? { tlsConnectionOptions: { ...rest.tlsConnectionOptions, ca } } : {}),
    });
  }

  /** Uploads a file, bytes or a stream to one object: multipart and parallel above the threshold. */
  async upload(options: UploadOptions): Promise<UploadResult> {
    return (await import('./transfer/upload.js')).upload(this, options);
  }

  /** Downloads one object to a file (atomically) or a Writable, in parallel ranged parts. */
  async download(options: DownloadOptions): Promise<DownloadResult> {
    return (await import('./transfer/download.js')).download(this, options);
  }

  /** One object as a Readable, fetched in parallel parts ahead of the reader as far as memory allows; backpressure stops it. */
  downloadStream(options: DownloadSource): Readable {
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    import('./transfer/download.js').then(
      ({ downloadStream }) => {
        const source = downloadStream(this, options);
        source.once('error', (error) => stream.destroy(error));
        stream.once('close', () => source.destroy());
        source.pipe(stream);
      },
      (error: Error) => stream.destroy(error),
    );
    return stream;
  }

  /** Copies an object server side: one CopyObject, or UploadPartCopy parts above the threshold. */
  async copy(options: CopyOptions): Promise<CopyResult> {
    return (await import('./transfer/copy.js')).copy(this, options);
  }

  /** Uploads every file below `folder` to `s3://bucket/prefix`, a bounded number at a time. */
  async uploadDirectory(folder: string, target: S3Prefix, options?: UploadDirectoryOptions): Promise<DirectoryResult> {
    return (await import('./transfer/directories.js')).uploadDirectory(this, folder, target, options);
  }

  /** Downloads every object below `s3://bucket/prefix` into `folder`; keys that would leave it are skipped and counted. */
  async downloadDirectory(source: S3Prefix, folder: string, options?: DownloadDirectoryOptions): Promise<DirectoryResult> {
    return (await import('./transfer/directories.js')).downloadDirectory(this, source, folder, options);
  }

  /** Every object (and common prefix, with a delimiter) under a prefix. */
  async *listObjects(options: ListOptions): AsyncGenerator<ListEntry> {
    yield* (await import('./transfer/objects.js')).listObjects(this, options);
  }

  /** The account's buckets. */
  async listBuckets(): Promise<Array<{ name: string; created: Date | null }>> {
    return (await import('./transfer/objects.js')).listBuckets(this);
  }

  /** An object's size, ETag, content type, metadata and checksum. */
  async headObject(options: { bucket: string; key: string; versionId?: string }): Promise<ObjectInfo> {
    return (await import('./transfer/objects.js')).headObject(this, options);
  }

  /** Deletes one object. */
  async deleteObject(options: { bucket: string; key: string }): Promise<void> {
    return (await import('./transfer/objects.js')).deleteObject(this, options);
  }

  /** Aborts a multipart upload (one kept for a resume that will not come). */
  async abortMultipartUpload(options: { bucket: string; key: string; uploadId: string }): Promise<void> {
    return (await import('./transfer/objects.js')).abortMultipartUpload(this, options);
  }

  /** Deletes many objects, a thousand per request. */
  async deleteObjects(options: { bucket: string; keys: string[] }): Promise<DeleteObjectsResult> {
    return (await import('./transfer/objects.js')).deleteObjects(this, options);
  }
}

/**
 * The CA bundle the AWS CLI would use (the option, then `AWS_CA_BUNDLE`, then the profile's
 * `ca_bundle`), read once: every connection of the client trusts it. One that cannot be read, or
 * holds no certificate, is an error now rather than a default trust store that would quietly
 * refuse (or accept) the server later.
 */
function readCaBundle(option: string | undefined, profile: ProfileSettings, name: string | undefined): Buffer | undefined {
  const [path, from] =
    option !== undefined
      ? [option, '']
      : process.env.AWS_CA_BUNDLE
        ? [process.env.AWS_CA_BUNDLE, ' (from AWS_CA_BUNDLE)']
        : [profile.ca_bundle, ` (from ca_bundle of profile ${resolveProfileName(name)})`];
  if (path === undefined) return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    throw new InvalidArgumentError(
      'caBundle',
      `cannot read the CA bundle ${path}${from}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InvalidArgumentError('caBundle', `the CA bundle ${path}${from} holds no PEM certificate`);
  }
  return pem;
}
