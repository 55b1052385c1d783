import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEc2InstanceType, getRecommendedThroughputTargetGbps, isOptimizedForSystem } from '../src/index.js';
import { DEFAULT_DMI_ROOTS, readDmi } from '../src/platform/instance-type.js';
import { newClient } from './helpers/client.js';

// This machine has no DMI, so the answer comes from IMDS: a local one, named by the environment as the SDKs do.
const noDmi = readDmi(DEFAULT_DMI_ROOTS).vendor === null;
const requests: string[] = [];
const imds = createServer((req, res) => {
  requests.push(`${req.method} ${req.url}`);
  if (req.method === 'PUT') return void res.end('T');
  res.end(req.headers['x-aws-ec2-metadata-token'] === 'T' ? 'trn1.32xlarge' : '');
});

beforeAll(async () => {
  await new Promise<void>((resolve) => imds.listen(0, '127.0.0.1', () => resolve()));
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = `http://127.0.0.1:${(imds.address() as AddressInfo).port}`;
  delete process.env.AWS_EC2_METADATA_DISABLED;
});

afterAll(async () => {
  delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  imds.closeAllConnections();
  await new Promise((resolve) => imds.close(resolve));
});

describe.skipIf(!noDmi)('platform functions of this process', () => {
  it('detect the instance type once and cache it for the process', async () => {
    expect(await getEc2InstanceType()).toBe('trn1.32xlarge');
    expect(await getEc2InstanceType()).toBe('trn1.32xlarge');
    expect(requests).toEqual(['PUT /latest/api/token', 'GET /latest/meta-data/instance-type']);
  });

  it('answer from the platform table for that instance type', async () => {
    expect(await isOptimizedForSystem()).toBe(true);
    expect(await getRecommendedThroughputTargetGbps()).toBe(600);
  });

  it('give a client created afterwards its throughput target: 600 Gbit/s, 1,500 connections', async () => {
    const client = newClient();
    try {
      expect(client.config.throughputTargetGbps).toBe(600);
      expect(client.config.connections).toBe(1500);
    } finally {
      await client.close();
    }
  });
});
