import { KiabError } from '../../errors.js';

/** The engine answers its status in milliseconds; one that has not within this is hung, not busy. */
export const PING_MS = 5_000;
/** An ordinary request (list, inspect, create, start, a network or volume): seconds on a busy host. */
export const CALL_MS = 120_000;
/** A container's removal, its kill included: seconds once nothing frozen holds it (kiab thaws what does). */
export const REMOVAL_MS = 45_000;
/** Work the engine does on a whole filesystem (commit, a helper that copies volumes): minutes for a large one. */
export const FILESYSTEM_MS = 30 * 60_000;
/** A progress stream (pull, build, import) that sends nothing for this long has stopped. */
export const STREAM_IDLE_MS = 10 * 60_000;

/** An engine request that got no answer in time: the engine is hung or unreachable, and the user is told which. */
export class EngineTimeoutError extends KiabError {
  constructor(endpoint: string, what: string, ms: number) {
    super(`the Docker engine at ${endpoint} did not answer ${what} within ${Math.round(ms / 1000)} s`, {
      hint: 'check that it runs and responds (`docker info`), or point DOCKER_HOST at one that does',
    });
    this.name = 'EngineTimeoutError';
  }
}

/**
 * Runs one engine request under a deadline. The request gets an abort signal that fires at the deadline, so
 * its connection is closed; a request that ignored the signal is left behind, the caller is not.
 */
export async function withinDeadline<T>(endpoint: string, what: string, ms: number, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new EngineTimeoutError(endpoint, what, ms));
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), late]);
  } catch (error) {
    if (controller.signal.aborted) throw new EngineTimeoutError(endpoint, what, ms);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Ends a stream with an EngineTimeoutError once it has carried nothing for `ms`. */
export function idleDeadline(stream: NodeJS.ReadableStream, endpoint: string, what: string, ms: number): void {
  const destroy = (): void => void (stream as unknown as { destroy(error: Error): void }).destroy(new EngineTimeoutError(endpoint, what, ms));
  let timer = setTimeout(destroy, ms);
  const rearm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(destroy, ms);
  };
  stream.on('data', rearm);
  const stop = (): void => clearTimeout(timer);
  stream.once('end', stop);
  stream.once('close', stop);
  stream.once('error', stop);
}
