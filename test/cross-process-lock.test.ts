import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CrossProcessLock, InvalidArgumentError, LockNotOwnedError, withLock } from '../src/index.js';
import { lockAddress } from '../src/lock/cross-process-lock.js';

const HOLDER = fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url));

interface Child {
  process: ChildProcess;
  /** The child's first line: "acquired" or "refused CODE". */
  outcome: Promise<string>;
}

function startHolder(name: string): Child {
  const child = spawn(process.execPath, [HOLDER, name], { stdio: ['pipe', 'pipe', 'inherit'] });
  const outcome = new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    // 'close' comes after the last output has been read; 'exit' may come before it.
    child.once('close', (code) => reject(new Error(`holder exited with ${code} before saying anything`)));
  });
  return { process: child, outcome };
}

async function stop(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = once(child.process, 'exit');
  child.process.stdin!.end();
  await exited;
}

let names = 0;
const uniqueName = () => `s3tx-test-${process.pid}-${names++}`;

describe('CrossProcessLock', () => {
  it('is exclusive within a process and free again after release', async () => {
    const name = uniqueName();
    const first = await new CrossProcessLock(name).acquire();
    const second = new CrossProcessLock(name);
    await expect(second.acquire()).rejects.toBeInstanceOf(LockNotOwnedError);
    await expect(second.acquire()).rejects.toMatchObject({ code: 'AWS_ERROR_MUTEX_CALLER_NOT_OWNER' });
    expect(first.held).toBe(true);
    first.release();
    first.release();
    await second.acquire();
    expect(second.held).toBe(true);
    second[Symbol.dispose]();
    expect(second.held).toBe(false);
  });

  it('locks of different names do not interfere', async () => {
    const a = await new CrossProcessLock(uniqueName()).acquire();
    const b = await new CrossProcessLock(uniqueName()).acquire();
    expect(a.held && b.held).toBe(true);
    a.release();
    b.release();
  });

  it('withLock holds the lock while the work runs and releases it after, even when the work throws', async () => {
    const name = uniqueName();
    await expect(
      withLock(name, async () => {
        await expect(new CrossProcessLock(name).acquire()).rejects.toMatchObject({ code: 'AWS_ERROR_MUTEX_CALLER_NOT_OWNER' });
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await withLock(name, () => 42)).toBe(42);
  });

  it('is exclusive across processes, and free once the holder lets go', async () => {
    const name = uniqueName();
    const holder = startHolder(name);
    expect(await holder.outcome).toBe('acquired');
    await expect(new CrossProcessLock(name).acquire()).rejects.toMatchObject({ code: 'AWS_ERROR_MUTEX_CALLER_NOT_OWNER' });
    const contender = startHolder(name);
    expect(await contender.outcome).toBe('refused AWS_ERROR_MUTEX_CALLER_NOT_OWNER');
    await stop(holder);
    const lock = await new CrossProcessLock(name).acquire();
    lock.release();
  });

  it('is released by the operating system within a second when its holder is killed with SIGKILL', async () => {
    const name = uniqueName();
    const holder = startHolder(name);
    expect(await holder.outcome).toBe('acquired');
    const lock = new CrossProcessLock(name);
    await expect(lock.acquire()).rejects.toBeInstanceOf(LockNotOwnedError);
    const exited = once(holder.process, 'exit');
    holder.process.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    let acquired = false;
    while (!acquired && Date.now() - killedAt < 1000) {
      acquired = await lock.acquire().then(
        () => true,
        () => false,
      );
      if (!acquired) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(acquired).toBe(true);
    lock.release();
  });

  it('of 20 processes racing for one name, exactly one holds it, round after round', async () => {
    for (let round = 0; round < 3; round++) {
      const name = uniqueName();
      const racers = Array.from({ length: 20 }, () => startHolder(name));
      const outcomes = await Promise.all(racers.map((racer) => racer.outcome));
      expect(outcomes.filter((outcome) => outcome === 'acquired')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'refused AWS_ERROR_MUTEX_CALLER_NOT_OWNER')).toHaveLength(19);
      await Promise.all(racers.map(stop));
    }
  });

  it('refuses bad names with an InvalidArgumentError', () => {
    expect(() => new CrossProcessLock('')).toThrow(InvalidArgumentError);
    expect(() => new CrossProcessLock('a/b')).toThrow(InvalidArgumentError);
    expect(() => new CrossProcessLock('a\0b')).toThrow(InvalidArgumentError);
    expect(() => new CrossProcessLock('x'.repeat(256))).toThrow(InvalidArgumentError);
    expect(() => new CrossProcessLock(42 as never)).toThrow(InvalidArgumentError);
    expect(new CrossProcessLock('x'.repeat(255)).lockScopeName).toHaveLength(255);
  });

  it('keeps socket files, where a platform needs them, in a private folder of the OS temp folder', () => {
    const path = lockAddress('name', 'darwin');
    expect(path.startsWith(join(tmpdir(), `s3tx-locks-`))).toBe(true);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
  });

  it('uses an abstract socket on Linux, so no lock file exists', () => {
    expect(lockAddress('name', 'linux').startsWith('\0')).toBe(true);
    expect(lockAddress('name', 'win32').startsWith('\\\\.\\pipe\\')).toBe(true);
    expect(lockAddress('a')).not.toBe(lockAddress('b'));
  });
});
