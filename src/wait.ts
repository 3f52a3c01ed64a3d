import { AbortedError, throwIfAborted, type KiabError } from './errors.js';

/** Resolves after `ms`; rejects with AbortedError as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface PollOptions {
  /** Pause between two checks, in ms. */
  interval: number;
  /** Epoch ms after which polling gives up. */
  deadline: number;
  signal?: AbortSignal;
  /** The error thrown at the deadline: what was awaited, what was last seen, what the user can do. */
  timeout: () => KiabError | Promise<KiabError>;
}

/**
 * The one wait loop: calls `check` until it returns something other than undefined. Ctrl-C ends it with
 * AbortedError at once (also mid-pause); the deadline ends it with the caller's error. A check that can fail
 * for a while (an API still starting) catches its own errors and returns undefined.
 */
export async function poll<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  for (;;) {
    throwIfAborted(options.signal);
    const value = await check();
    if (value !== undefined) return value;
    const left = options.deadline - Date.now();
    if (left <= 0) throw await options.timeout();
    await sleep(Math.min(options.interval, left), options.signal);
  }
}
