import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryBucketZone, objectLocation, parseConfigFile, parseS3Url, resolveEndpointConfig } from '../src/protocol/endpoint.js';
import { isLoopbackHost } from '../src/http/hosts.js';
import { keyUnder, safeLocalPath } from '../src/transfer/paths.js';

describe('endpoint resolution', () => {
  it('knows an endpoint on this machine by its name or address', () => {
    for (const host of ['localhost', 'minio.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1', '[::ffff:127.0.0.1]'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['s3.amazonaws.com', '10.0.0.1', '128.0.0.1', '[::2]', 'localhost.example.com', '127.0.0.1.nip.io'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  const profileText = `
# comment
[default]
region = eu-west-1
[profile dev]
region = ap-south-1
endpoint_url = https://global.example
s3 =
  endpoint_url = http://127.0.0.1:9000
  addressing_style = path
[sso-session corp]
region = nowhere
`;

  it('reads profiles with their s3 sub-settings', () => {
    const profiles = parseConfigFile(profileText);
    expect(profiles.get('default')).toEqual({ region: 'eu-west-1' });
    expect(profiles.get('dev')).toEqual({
      region: 'ap-south-1',
      endpoint_url: 'https://global.example',
      's3.endpoint_url': 'http://127.0.0.1:9000',
      's3.addressing_style': 'path',
    });
    expect(profiles.has('corp')).toBe(false);
  });

  it('takes arguments first, then the environment, then the profile, then AWS', () => {
    const dev = parseConfigFile(profileText).get('dev')!;
    expect(resolveEndpointConfig({ profile: dev }).endpoint.href).toBe('http://127.0.0.1:9000/');
    expect(resolveEndpointConfig({ profile: dev }).forcePathStyle).toBe(true);
    expect(resolveEndpointConfig({ profile: dev, env: { AWS_ENDPOINT_URL: 'https://env.example' } }).endpoint.host).toBe('env.example');
    expect(
      resolveEndpointConfig({ profile: dev, env: { AWS_ENDPOINT_URL: 'https://a.example', AWS_ENDPOINT_URL_S3: 'https://s3.example' } }).endpoint.host,
    ).toBe('s3.example');
    expect(resolveEndpointConfig({ endpoint: 'https://arg.example', env: { AWS_ENDPOINT_URL: 'https://env.example' } }).endpoint.host).toBe('arg.example');
    expect(resolveEndpointConfig({ env: { AWS_REGION: 'us-west-2' } }).endpoint.href).toBe('https://s3.us-west-2.amazonaws.com/');
    expect(resolveEndpointConfig({ profile: dev, env: { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' } }).endpoint.host).toBe('s3.ap-south-1.amazonaws.com');
    expect(() => resolveEndpointConfig({ endpoint: 'ftp://x' })).toThrow(/http or https/);
  });

  it('addresses buckets virtual-hosted, or path style where a host name cannot carry the bucket', () => {
    const aws = resolveEndpointConfig({ region: 'us-east-1' });
    expect(objectLocation(aws, 'my-bucket', 'a b/ü+c.txt')).toEqual({ host: 'my-bucket.s3.us-east-1.amazonaws.com', path: '/a%20b/%C3%BC%2Bc.txt' });
    expect(objectLocation(aws, 'dotted.bucket', 'k')).toEqual({ host: 's3.us-east-1.amazonaws.com', path: '/dotted.bucket/k' });
    expect(objectLocation(aws, 'Upper_Case', 'k').path).toBe('/Upper_Case/k');
    expect(objectLocation({ ...aws, forcePathStyle: true }, 'my-bucket', 'k')).toEqual({ host: 's3.us-east-1.amazonaws.com', path: '/my-bucket/k' });
    const local = resolveEndpointConfig({ endpoint: 'http://127.0.0.1:9000' });
    expect(objectLocation(local, 'b', "it's(1)*")).toEqual({ host: '127.0.0.1:9000', path: '/b/it%27s%281%29%2A' });
    expect(objectLocation(resolveEndpointConfig({ endpoint: 'http://localhost:9000/base/' }), 'bucket', 'k')).toEqual({
      host: 'localhost:9000',
      path: '/base/bucket/k',
    });
  });

  it('addresses a custom endpoint path style by default, as botocore does, and AWS virtual-hosted; configuration wins', () => {
    const where = (sources: Parameters<typeof resolveEndpointConfig>[0]) => objectLocation(resolveEndpointConfig(sources), 'my-bucket', 'k');
    expect(where({ endpoint: 'https://minio.example.com:9000' })).toEqual({ host: 'minio.example.com:9000', path: '/my-bucket/k' });
    expect(where({ endpoint: 'https://s3.eu-west-1.amazonaws.com' })).toEqual({ host: 'my-bucket.s3.eu-west-1.amazonaws.com', path: '/k' });
    expect(where({ endpoint: 'https://s3.cn-north-1.amazonaws.com.cn' }).host).toBe('my-bucket.s3.cn-north-1.amazonaws.com.cn');
    expect(where({ region: 'us-west-2' }).host).toBe('my-bucket.s3.us-west-2.amazonaws.com');
    // A name that only contains amazonaws.com is not AWS's.
    expect(where({ endpoint: 'https://amazonaws.com.example.net' }).path).toBe('/my-bucket/k');

    const virtual = { 's3.addressing_style': 'virtual' };
    const path = { 's3.addressing_style': 'path' };
    expect(where({ endpoint: 'https://minio.example.com', profile: virtual }).host).toBe('my-bucket.minio.example.com');
    expect(where({ endpoint: 'https://minio.example.com', profile: { 's3.addressing_style': 'auto' } }).host).toBe('minio.example.com');
    expect(where({ region: 'us-east-1', profile: path })).toEqual({ host: 's3.us-east-1.amazonaws.com', path: '/my-bucket/k' });
    // The argument beats the profile; forcePathStyle beats both.
    expect(where({ endpoint: 'https://minio.example.com', addressingStyle: 'virtual', profile: path }).host).toBe('my-bucket.minio.example.com');
    expect(where({ region: 'us-east-1', addressingStyle: 'auto', profile: path }).host).toBe('my-bucket.s3.us-east-1.amazonaws.com');
    expect(where({ region: 'us-east-1', addressingStyle: 'virtual', forcePathStyle: true }).path).toBe('/my-bucket/k');
    expect(where({ endpoint: 'https://minio.example.com', forcePathStyle: false, profile: path }).host).toBe('my-bucket.minio.example.com');
    // IP addresses and localhost cannot carry a bucket, whatever is configured.
    expect(where({ endpoint: 'http://127.0.0.1:9000', addressingStyle: 'virtual' }).host).toBe('127.0.0.1:9000');
    expect(where({ endpoint: 'http://localhost:9000', forcePathStyle: false }).host).toBe('localhost:9000');

    expect(() => resolveEndpointConfig({ profile: { 's3.addressing_style': 'sideways' } })).toThrow(/s3\.addressing_style: must be path, virtual or auto/);
    expect(() => resolveEndpointConfig({ addressingStyle: 'Path' as never })).toThrow(/addressingStyle: must be path, virtual or auto/);
  });

  it('reads s3:// URLs', () => {
    expect(parseS3Url('s3://bucket/a/b/')).toEqual({ bucket: 'bucket', key: 'a/b/' });
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(parseS3Url('/local/path')).toBeNull();
  });
});

describe('directory buckets', () => {
  it('are named base--zone--x-s3 and live at their zone endpoint on AWS, in path style elsewhere', () => {
    expect(directoryBucketZone('fast--usw2-az1--x-s3')).toBe('usw2-az1');
    expect(directoryBucketZone('local--use1-lax1-az1--x-s3')).toBe('use1-lax1-az1');
    for (const name of ['plain-bucket', 'no-zone--x-s3', 'fast--usw2-az1--x-s3-not', 'Fast--usw2-az1--x-s3'])
      expect(directoryBucketZone(name), name).toBeNull();
    const aws = resolveEndpointConfig({ region: 'us-west-2', env: {}, profile: {} });
    expect(objectLocation(aws, 'fast--usw2-az1--x-s3', 'a/b')).toEqual({
      host: 'fast--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com',
      path: '/a/b',
    });
    const local = resolveEndpointConfig({ endpoint: 'http://127.0.0.1:9000', env: {}, profile: {} });
    expect(objectLocation(local, 'fast--usw2-az1--x-s3', 'a/b')).toEqual({ host: '127.0.0.1:9000', path: '/fast--usw2-az1--x-s3/a/b' });
  });
});

describe('local paths of keys', () => {
  it('keeps every key inside the target folder', () => {
    expect(safeLocalPath('/t', 'p/', 'p/a/b.txt')).toEqual({ path: '/t/a/b.txt' });
    expect(safeLocalPath('/t', 'p', 'p/a.txt')).toEqual({ path: '/t/a.txt' });
    expect(safeLocalPath('/t', '', 'ünï/cødé.txt')).toEqual({ path: '/t/ünï/cødé.txt' });
    for (const key of ['../evil', 'a/../../evil', '/abs', 'a\\..\\b', 'C:evil', 'a//b', './a', 'dir/', 'nul\0byte']) {
      expect(safeLocalPath('/t', '', key), key).toHaveProperty('reason');
    }
    expect(keyUnder('p', 'a')).toBe('p/a');
    expect(keyUnder('p/', 'a')).toBe('p/a');
    expect(keyUnder('', 'a')).toBe('a');
  });
});

describe('S3Client.fromEnvironment keeps a configured AWS endpoint', () => {
  it("a named profile's China, FIPS or dualstack endpoint_url is the client's, not the regional default", async () => {
    const { S3Client } = await import('../src/index.js');
    const folder = mkdtempSync(join(tmpdir(), 's3tx-profile-'));
    const saved = process.env.AWS_CONFIG_FILE;
    try {
      for (const endpoint of [
        'https://s3.cn-north-1.amazonaws.com.cn',
        'https://s3-fips.us-east-1.amazonaws.com',
        'https://s3.dualstack.eu-west-1.amazonaws.com',
      ]) {
        writeFileSync(join(folder, 'config'), `[profile other]\nregion = us-east-1\nendpoint_url = ${endpoint}\n`);
        process.env.AWS_CONFIG_FILE = join(folder, 'config');
        const client = S3Client.fromEnvironment({ profile: 'other' });
        expect(client.endpointConfig.endpoint.origin).toBe(endpoint);
        await client.close();
      }
    } finally {
      if (saved === undefined) delete process.env.AWS_CONFIG_FILE;
      else process.env.AWS_CONFIG_FILE = saved;
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
