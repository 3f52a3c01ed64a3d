import { KiabError } from '../../errors.js';
import type { Provider } from '../../provider/types.js';
import { poll } from '../../wait.js';

/** How long a machine may take to freeze before the capture gives up on it. */
const FREEZE_DEADLINE_MS = 30_000;

/**
 * Pauses one machine for a capture. On a cgroup v1 host runc gives up on a freeze that a busy machine (processes
 * in uninterruptible I/O) does not settle within its own short wait, thaws it again and reports "unable to
 * freeze"; a later try usually takes, so that answer is retried until the deadline. Any other failure is final.
 */
export async function freezeMachine(provider: Provider, name: string, signal?: AbortSignal, interval = 500): Promise<void> {
  let last: unknown;
  await poll(
    async () => {
      try {
        await provider.pauseContainer(name);
        return true;
      } catch (error) {
        if (!/unable to freeze/.test(error instanceof Error ? error.message : String(error))) throw error;
        last = error;
        return undefined;
      }
    },
    {
      interval,
      deadline: Date.now() + FREEZE_DEADLINE_MS,
      ...(signal ? { signal } : {}),
      timeout: () => new KiabError(`${name} did not freeze within ${FREEZE_DEADLINE_MS / 1000}s, so it cannot be captured`, { cause: last }),
    },
  );
}
