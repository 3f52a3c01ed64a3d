import type { MachineRef } from '../../distribution/index.js';
import { KiabError } from '../../errors.js';
import { poll } from '../../wait.js';
import { kubernetesNodes } from '../kubernetes/api-ready.js';

/** How long a node agent may take to report after its restart before it is restarted again. */
const REPORT_WITHIN_MS = 30_000;

/**
 * Waits until a machine's node reports running `version`, as the agent that runs says it (the binary on disk
 * may be newer: an upgrade killed between the swap and the restart leaves the old agent running). An agent
 * that has not reported it within half a minute is restarted, once per half minute, until the deadline.
 */
export async function untilNodeReports(
  kubeconfig: string,
  machine: MachineRef,
  version: string,
  restart: (() => Promise<void>) | undefined,
  options: { deadline: number; signal?: AbortSignal; progress: (detail: string) => void; restartAfterMs?: number },
): Promise<void> {
  let last = 'no answer';
  const restartAfter = options.restartAfterMs ?? REPORT_WITHIN_MS;
  let restartAt = Date.now() + restartAfter;
  await poll(
    async () => {
      const reported = await kubernetesNodes(kubeconfig).then(
        (nodes) => nodes.find((node) => node.name === machine.name)?.kubeletVersion ?? 'no node',
        (error: unknown) => `the API did not answer (${(error as Error).message.split('\n')[0]})`,
      );
      if (reported === version) return true;
      last = reported;
      options.progress(`${machine.name} reports ${reported}, waiting for ${version}`);
      if (restart && Date.now() >= restartAt) {
        restartAt = Date.now() + restartAfter;
        await restart().catch(() => undefined);
      }
      return undefined;
    },
    {
      interval: 1000,
      deadline: options.deadline,
      ...(options.signal ? { signal: options.signal } : {}),
      timeout: () =>
        new KiabError(`${machine.name} still reports ${last}, not ${version}`, { hint: `see \`kiab exec ${machine.name} -- journalctl -u kubelet\`` }),
    },
  );
}
