import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

const MiB = 1024 * 1024;

export interface MemorySources {
  totalMemory: number;
  /** Contents of cgroup v2 `memory.max`, or null when absent. */
  cgroupV2Max: string | null;
  /** Contents of cgroup v1 `memory.limit_in_bytes`, or null when absent. */
  cgroupV1Limit: string | null;
  /** `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MiB, or undefined. */
  lambdaMemoryMiB: string | undefined;
}

/**
 * The memory this process may use: the smallest of the machine's memory, the
 * cgroup limit (v2 or v1) and a Lambda function's configured size. Pure, so the
 * rules are tested on made-up inputs.
 */
export function usableMemory(sources: MemorySources): number {
  const candidates = [sources.totalMemory];
  for (const text of [sources.cgroupV2Max, sources.cgroupV1Limit]) {
    const value = text === null ? NaN : Number(text.trim());
    // cgroup v2 says "max" and v1 a huge number when there is no limit.
    if (Number.isFinite(value) && value > 0 && value < sources.totalMemory) candidates.push(value);
  }
  const lambda = Number(sources.lambdaMemoryMiB);
  if (Number.isFinite(lambda) && lambda > 0) candidates.push(lambda * MiB);
  return Math.min(...candidates);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Reads the limits of this process from the OS. Called when a client is created, never at import. */
export function readUsableMemory(): number {
  return usableMemory({
    totalMemory: totalmem(),
    cgroupV2Max: readOrNull('/sys/fs/cgroup/memory.max'),
    cgroupV1Limit: readOrNull('/sys/fs/cgroup/memory/memory.limit_in_bytes'),
    lambdaMemoryMiB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  });
}
