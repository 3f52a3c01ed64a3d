import { AbortedError, throwIfAborted, type KiabError } from './errors.js';

/** Resolves after `ms`; rejects with AbortedError as soon as the signal fires. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
    const value = await beforeDeadline(check(), options);
    if (value !== undefined) return value;
    const left = options.deadline - Date.now();
    if (left <= 0) throw await options.timeout();
    await sleep(Math.min(options.interval, left), options.signal);
  }
}

const PAST_DEADLINE = Symbol('past the deadline');

/** A check that hangs (an engine or API that stopped answering) cannot carry the wait past its deadline. */
async function beforeDeadline<T>(work: Promise<T>, options: PollOptions): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof PAST_DEADLINE>(
    (resolve) => (timer = setTimeout(() => resolve(PAST_DEADLINE), Math.max(0, options.deadline - Date.now()) + 1000)),
  );
  try {
    const value = await Promise.race([work, late]);
    if (value === PAST_DEADLINE) throw await options.timeout();
    return value;
  } finally {
    clearTimeout(timer);
  }
}
