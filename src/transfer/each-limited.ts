/** Concurrency control for work over many items: what the folder transfers and the CLI run files with. */

/**
 * Runs `work` on each item, at most `concurrency` at once, in order of start; items are taken from
 * an (async) iterable only as places free up, so a listing is read no faster than it is worked
 * through. Rejects with the first failure, once the work already started has settled.
 */
export async function eachLimited<T>(items: AsyncIterable<T> | Iterable<T>, concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  for await (const item of items) {
    const task: Promise<void> = work(item)
      .catch((error: unknown) => void (failure ??= { error }))
      .finally(() => running.delete(task));
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
    if (failure) break;
  }
  await Promise.all(running);
  if (failure) throw (failure as { error: unknown }).error;
}
