import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, S3RequestType, getOptimizedPlatforms } from '../src/index.js';
import { detectInstanceType, instanceTypeFromDmi, readDmi } from '../src/platform/instance-type.js';
import { platformInfo, recommendedThroughputGbps } from '../src/platform/platforms.js';
import { interfaceAddresses } from '../src/platform/network-interfaces.js';
import { httpRequest, newClient, run } from './helpers/client.js';
import { startTestServer, tempFolder } from './helpers/servers.js';

type ImdsMode = 'answer' | 'never' | 'not-found';

/** A local IMDSv2: a token from PUT /latest/api/token, required (401 without it) for the metadata. */
async function startImds(mode: ImdsMode, instanceType = 'trn1.32xlarge'): Promise<{ endpoint: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (mode === 'never') return;
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.writeHead(200).end('TOKEN-123');
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN-123') return void res.writeHead(401).end();
    if (mode === 'not-found' || req.url !== '/latest/meta-data/instance-type') return void res.writeHead(404).end();
    res.writeHead(200).end(instanceType);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

let folder: { path: string; remove: () => Promise<void> };

async function dmi(name: string, files: Record<string, string>): Promise<string> {
  const root = join(folder.path, name);
  await mkdir(root, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(root, file), `${text}\n`);
  return root;
}

beforeAll(async () => {
  folder = await tempFolder();
});
afterAll(async () => {
  await folder?.remove();
});

describe('instance type', () => {
  it('reads the instance type from DMI on Nitro without any network call', async () => {
    const imds = await startImds('answer');
    try {
      const root = await dmi('nitro', { sys_vendor: 'Amazon EC2', product_name: 'p5.48xlarge' });
      expect(await detectInstanceType({ dmiRoots: [join(folder.path, 'missing'), root], imdsEndpoint: imds.endpoint, imdsDisabled: false })).toBe(
        'p5.48xlarge',
      );
      expect(imds.requests).toEqual([]);
    } finally {
      await imds.close();
    }
  });

  it('asks IMDSv2, token first, when DMI names EC2 without an instance type', async () => {
    const imds = await startImds('answer', 'c5n.18xlarge');
    try {
      const root = await dmi('ec2-no-product', { sys_vendor: 'Amazon EC2' });
      expect(await detectInstanceType({ dmiRoots: [root], imdsEndpoint: imds.endpoint, imdsDisabled: false })).toBe('c5n.18xlarge');
      expect(imds.requests).toEqual(['PUT /latest/api/token', 'GET /latest/meta-data/instance-type']);
    } finally {
      await imds.close();
    }
  });

  it('asks IMDSv2 when there is no DMI, and answers null quickly on 404', async () => {
    const imds = await startImds('not-found');
    try {
      expect(await detectInstanceType({ dmiRoots: [join(folder.path, 'none')], imdsEndpoint: imds.endpoint, imdsDisabled: false })).toBeNull();
      expect(imds.requests).toHaveLength(2);
    } finally {
      await imds.close();
    }
  });

  it('gives up on an IMDS that never answers after one second', async () => {
    const imds = await startImds('never');
    try {
      const started = Date.now();
      expect(await detectInstanceType({ dmiRoots: [], imdsEndpoint: imds.endpoint, imdsDisabled: false })).toBeNull();
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(3000);
    } finally {
      await imds.close();
    }
  });

  it('does not call IMDS when DMI names another vendor, or when AWS_EC2_METADATA_DISABLED is set', async () => {
    const imds = await startImds('answer');
    try {
      const root = await dmi('qemu', { sys_vendor: 'QEMU', product_name: 'Standard PC' });
      expect(await detectInstanceType({ dmiRoots: [root], imdsEndpoint: imds.endpoint, imdsDisabled: false })).toBeNull();
      expect(await detectInstanceType({ dmiRoots: [], imdsEndpoint: imds.endpoint, imdsDisabled: true })).toBeNull();
      expect(imds.requests).toEqual([]);
    } finally {
      await imds.close();
    }
  });

  it('decides from DMI alone where it can', async () => {
    expect(instanceTypeFromDmi({ vendor: 'Amazon EC2', productName: 'trn1.32xlarge' })).toBe('trn1.32xlarge');
    expect(instanceTypeFromDmi({ vendor: 'amazon ec2', productName: null })).toBe('ask-imds');
    expect(instanceTypeFromDmi({ vendor: null, productName: null })).toBe('ask-imds');
    expect(instanceTypeFromDmi({ vendor: 'Xen', productName: 'HVM domU' })).toBe('not-ec2');
    expect(readDmi([join(folder.path, 'nothing-here')])).toEqual({ vendor: null, productName: null });
  });
});

describe("aws-c-s3's platform table", () => {
  it('lists the instance types with a recommended configuration', () => {
    expect(getOptimizedPlatforms().sort()).toEqual(
      [
        'p4d.24xlarge',
        'p4de.24xlarge',
        'p5.48xlarge',
        'p5e.48xlarge',
        'p5en.48xlarge',
        'trn1.32xlarge',
        'trn1n.32xlarge',
        'trn2.48xlarge',
        'trn2u.48xlarge',
      ].sort(),
    );
  });

  it('knows the reachable throughput of each, and nothing of other types', () => {
    expect(recommendedThroughputGbps('trn1n.32xlarge')).toBe(800);
    expect(recommendedThroughputGbps('TRN1.32XLARGE')).toBe(600);
    expect(recommendedThroughputGbps('p5.48xlarge')).toBe(400);
    expect(recommendedThroughputGbps('c5n.9xlarge')).toBe(50);
    expect(platformInfo('c5n.18xlarge')).toEqual({ instanceType: 'c5n.18xlarge', maxThroughputGbps: 100, hasRecommendedConfiguration: false });
    expect(recommendedThroughputGbps('m5.large')).toBeNull();
    expect(recommendedThroughputGbps(null)).toBeNull();
  });
});

describe('network interfaces', () => {
  it('binds connections to the loopback interface by name', async () => {
    const server = await startTestServer();
    const client = newClient({ networkInterfaceNames: ['lo'] });
    try {
      const result = await run(client, { type: S3RequestType.DEFAULT, operationName: 'ListBuckets', request: httpRequest(server.host, 'GET', '/') });
      expect(result.error).toBeNull();
      expect(server.requests[0]?.remoteAddress).toBe('127.0.0.1');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('refuses an interface that does not exist, naming it, when the client is created', () => {
    expect(() => newClient({ networkInterfaceNames: ['lo', 'no-such-nic0'] })).toThrow(InvalidArgumentError);
    expect(() => newClient({ networkInterfaceNames: ['no-such-nic0'] })).toThrow(/no-such-nic0/);
  });

  it('refuses an interface without an address', () => {
    const [entry] = interfaceAddresses(['down0'], { down0: [] });
    expect(entry).toEqual({ name: 'down0', problem: 'network interface "down0" has no usable address' });
  });
});
