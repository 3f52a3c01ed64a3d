import { throwIfAborted } from './errors.js';

/**
 * Runs work over items with at most `limit` at a time. The first failure aborts the shared signal so
 * the others stop early, and is the error thrown once every started task has settled. An interrupt of
 * `parent` ends it with AbortedError.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, signal: AbortSignal) => Promise<void>,
  parent?: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  // An abort before we listened fires no event: take it now, so no work starts.
  if (parent?.aborted) onParentAbort();
  let next = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && !controller.signal.aborted) {
      const item = items[next++] as T;
      try {
        await work(item, controller.signal);
      } catch (error) {
        if (firstError === undefined) firstError = error;
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
  }
  if (firstError !== undefined) throw firstError;
  throwIfAborted(parent);
}
