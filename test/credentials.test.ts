import { afterEach, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { AwsCredentialsProvider, createDefaultS3SigningConfig } from '../src/index.js';
import { cachingProvider, type AwsCredentials } from '../src/auth/credentials.js';

describe('credential providers', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('static credentials come back as given and stay out of inspected objects', async () => {
    const provider = AwsCredentialsProvider.newStatic('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG', 'TOKEN123');
    expect(await provider()).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'TOKEN123' });
    const shown = inspect(createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: provider }), { depth: 10, showHidden: true });
    expect(shown).not.toContain('wJalrXUtnFEMI');
    expect(shown).not.toContain('TOKEN123');
  });

  it('environment credentials are read when needed and fail clearly when absent', async () => {
    const provider = AwsCredentialsProvider.newEnvironment();
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(provider()).rejects.toMatchObject({ code: 'AWS_AUTH_CREDENTIALS_PROVIDER_SOURCE_FAILURE' });
    process.env.AWS_ACCESS_KEY_ID = 'AKIDENV';
    process.env.AWS_SECRET_ACCESS_KEY = 'secretenv';
    expect(await provider()).toEqual({ accessKeyId: 'AKIDENV', secretAccessKey: 'secretenv' });
  });

  it('the default chain finds environment credentials', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDCHAIN';
    process.env.AWS_SECRET_ACCESS_KEY = 'secretchain';
    expect(await AwsCredentialsProvider.newDefaultChain()()).toMatchObject({ accessKeyId: 'AKIDCHAIN', secretAccessKey: 'secretchain' });
  });

  it('caches credentials until five minutes before they expire, sharing one fetch', async () => {
    let now = 0;
    let calls = 0;
    const provider = cachingProvider(
      async (): Promise<AwsCredentials> => {
        calls++;
        return { accessKeyId: `K${calls}`, secretAccessKey: 's', expiration: new Date(now + 10 * 60_000) };
      },
      () => now,
    );
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a.accessKeyId).toBe('K1');
    expect(b.accessKeyId).toBe('K1');
    now += 4 * 60_000;
    expect((await provider()).accessKeyId).toBe('K1');
    now += 2 * 60_000;
    expect((await provider()).accessKeyId).toBe('K2');
    expect(calls).toBe(2);
  });
});
