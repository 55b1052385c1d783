import { describe, expect, it } from 'vitest';
import { AwsCredentialsProvider, AwsSigningAlgorithm, InvalidArgumentError, S3RequestTlsMode, UnsupportedError } from '../src/index.js';
import { resolveClientOptions, type S3ClientOptions } from '../src/client/options.js';
import { resolveEndpoint, splitPath } from '../src/client/request-options.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function machine(usableMemory: number, recommendedThroughputGbps: number | null = null) {
  return { usableMemory, recommendedThroughputGbps };
}

function optionError(options: Partial<S3ClientOptions>): InvalidArgumentError {
  try {
    resolveClientOptions({ region: 'us-east-1', ...options } as S3ClientOptions, machine(16 * GiB));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('client options', () => {
  it('resolves the reference defaults', () => {
    const config = resolveClientOptions({ region: 'eu-west-1' }, machine(16 * GiB));
    expect(config).toMatchObject({
      region: 'eu-west-1',
      tls: true,
      partSize: 8 * MiB,
      multipartUploadThreshold: 8 * MiB,
      throughputTargetGbps: 10,
      memoryLimit: 2 * GiB,
      connections: 25,
      maxConnectionsGiven: false,
      maxRequestsInFlight: 25,
      stallTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
    });
    expect(config.retry.maxRetries).toBe(5);
  });

  it('takes a connection count that overrides the one the throughput target gives', () => {
    expect(resolveClientOptions({ region: 'r', maxConnections: 4 }, machine(16 * GiB))).toMatchObject({ connections: 4, maxRequestsInFlight: 4 });
    expect(resolveClientOptions({ region: 'r', maxConnections: 30 }, machine(16 * GiB))).toMatchObject({ connections: 30, maxConnectionsGiven: true });
    expect(optionError({ maxConnections: 0 }).option).toBe('maxConnections');
    expect(optionError({ maxConnections: 2.5 }).option).toBe('maxConnections');
  });

  it('derives connections and memory from the throughput target', () => {
    const config = resolveClientOptions({ region: 'x', throughputTargetGbps: 100 }, machine(64 * GiB));
    expect(config.connections).toBe(250);
    expect(config.memoryLimit).toBe(8 * GiB);
  });

  it("uses the detected instance type's recommended throughput when none is given", () => {
    const config = resolveClientOptions({ region: 'x' }, machine(64 * GiB, 400));
    expect(config.throughputTargetGbps).toBe(400);
    expect(config.connections).toBe(1000);
    expect(resolveClientOptions({ region: 'x', throughputTargetGbps: 5 }, machine(64 * GiB, 400)).throughputTargetGbps).toBe(5);
  });

  it('fits the default memory limit to a small function', () => {
    expect(resolveClientOptions({ region: 'x' }, machine(512 * MiB)).memoryLimit).toBe(128 * MiB);
  });

  it('sets the threshold from a custom part size', () => {
    expect(resolveClientOptions({ region: 'x', partSize: 16 * MiB }, machine(16 * GiB)).multipartUploadThreshold).toBe(16 * MiB);
    expect(resolveClientOptions({ region: 'x', partSize: 1 * MiB }, machine(16 * GiB)).multipartUploadThreshold).toBe(5 * MiB);
  });

  it('names the option at fault', () => {
    expect(optionError({ region: '' }).option).toBe('region');
    expect(optionError({ region: undefined }).option).toBe('region');
    expect(optionError({ partSize: 0 }).option).toBe('partSize');
    expect(optionError({ partSize: -5 }).option).toBe('partSize');
    expect(optionError({ partSize: 1.5 }).option).toBe('partSize');
    expect(optionError({ partSize: 5 * GiB + 1, multipartUploadThreshold: 6 * GiB, memoryLimit: 8 * GiB }).option).toBe('partSize');
    expect(optionError({ partSize: 16 * MiB, multipartUploadThreshold: 8 * MiB }).option).toBe('multipartUploadThreshold');
    expect(optionError({ multipartUploadThreshold: 5 * GiB + 1 }).option).toBe('multipartUploadThreshold');
    expect(optionError({ multipartUploadThreshold: 0 }).option).toBe('multipartUploadThreshold');
    expect(optionError({ throughputTargetGbps: 0 }).option).toBe('throughputTargetGbps');
    expect(optionError({ memoryLimit: -1 }).option).toBe('memoryLimit');
    expect(optionError({ memoryLimit: 4 * MiB }).option).toBe('memoryLimit');
    expect(optionError({ tlsMode: 7 as S3RequestTlsMode }).option).toBe('tlsMode');
    expect(optionError({ networkInterfaceNames: [''] }).option).toBe('networkInterfaceNames');
    expect(optionError({ signingConfig: { region: '' } }).option).toBe('signingConfig.region');
    expect(optionError({ credentialProvider: 'key' as never }).option).toBe('credentialProvider');
    expect(optionError({ stallTimeoutMs: 0 }).option).toBe('stallTimeoutMs');
    expect(optionError({ stallTimeoutMs: 2 ** 31 }).option).toBe('stallTimeoutMs');
    expect(optionError({ connectTimeoutMs: 2 ** 31 }).option).toBe('connectTimeoutMs');
    for (const connectTimeoutMs of [0, -1, 1.5, Number.NaN, '3000' as never]) {
      expect(optionError({ connectTimeoutMs }).option).toBe('connectTimeoutMs');
    }
    expect(optionError({ connectTimeoutMs: 0 }).message).toMatch(/milliseconds/);
    expect(resolveClientOptions({ region: 'r', connectTimeoutMs: 3_000, stallTimeoutMs: 5_000 }, machine(GiB))).toMatchObject({
      connectTimeoutMs: 3_000,
      stallTimeoutMs: 5_000,
    });
    expect(optionError({ maxRetries: -1 }).option).toBe('maxRetries');
  });

  it('takes S3 Express; refuses V4_S3EXPRESS signing without enableS3Express, and SigV4a as not in this build', () => {
    const provider = AwsCredentialsProvider.newStatic('a', 'b');
    expect(resolveClientOptions({ region: 'x', enableS3Express: true }, machine(GiB)).enableS3Express).toBe(true);
    const express = { algorithm: AwsSigningAlgorithm.V4_S3EXPRESS, credentialProvider: provider };
    expect(() => resolveClientOptions({ region: 'x', signingConfig: express }, machine(GiB))).toThrow(InvalidArgumentError);
    expect(resolveClientOptions({ region: 'x', signingConfig: express, enableS3Express: true }, machine(GiB)).signingConfig).toBe(express);
    const sigv4a = { algorithm: AwsSigningAlgorithm.V4_ASYMMETRIC, credentialProvider: provider };
    expect(() => resolveClientOptions({ region: 'x', signingConfig: sigv4a, enableS3Express: true }, machine(GiB))).toThrow(UnsupportedError);
  });
});

describe('request endpoint', () => {
  const request = { method: 'GET', path: '/b/k', headers: {} };

  it('takes host and port from the Host header, scheme from the TLS mode', () => {
    expect(resolveEndpoint(request, { host: '127.0.0.1:9000' }, false)).toEqual({ origin: 'http://127.0.0.1:9000', host: '127.0.0.1:9000', loopback: true });
    expect(resolveEndpoint(request, { host: 'bucket.s3.amazonaws.com' }, true)).toEqual({
      origin: 'https://bucket.s3.amazonaws.com',
      host: 'bucket.s3.amazonaws.com',
      loopback: false,
    });
    expect(resolveEndpoint(request, { host: '[::1]:9000' }, false)).toMatchObject({ origin: 'http://[::1]:9000', loopback: true });
  });

  it('falls back to the hostname and port of the request', () => {
    expect(resolveEndpoint({ ...request, hostname: 'localhost', port: 4568 }, {}, false)).toEqual({
      origin: 'http://localhost:4568',
      host: 'localhost:4568',
      loopback: true,
    });
  });

  it('refuses a Host header that is not a host', () => {
    expect(() => resolveEndpoint(request, { host: 'a/b' }, false)).toThrow(InvalidArgumentError);
  });

  it('splits a query string off the path and decodes its values', () => {
    expect(splitPath({ ...request, path: '/b/k%20x?versionId=a%2Bb&uploads' })).toEqual({ path: '/b/k%20x', query: { versionId: 'a+b', uploads: '' } });
    expect(splitPath({ ...request, path: '/b', query: { 'list-type': '2', prefix: null } })).toEqual({ path: '/b', query: { 'list-type': '2', prefix: '' } });
  });
});
