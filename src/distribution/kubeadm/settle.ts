import { KiabError } from '../../errors.js';
import { tryRun } from '../../provider/run.js';
import { poll } from '../../wait.js';
import type { DistributionContext, MachineRef } from '../types.js';

/**
 * A kubeadm left running by a kiab that was killed (docker exec runs on without its client) finishes before
 * anything else is done on that machine, so two kubeadm runs never overlap and its outcome is seen.
 */
export async function settleKubeadm(context: DistributionContext, machine: MachineRef): Promise<void> {
  const running = async (): Promise<boolean> => (await tryRun(context.provider, machine.name, ['pgrep', '-x', 'kubeadm'])).exitCode === 0;
  if (!(await running())) return;
  context.progress(`waiting for the kubeadm an earlier run left on ${machine.name}`);
  await poll(async () => ((await running()) ? undefined : true), {
    interval: 1000,
    deadline: context.deadline,
    ...(context.signal ? { signal: context.signal } : {}),
    timeout: () =>
      new KiabError(`${machine.name}: a kubeadm left by an earlier run is still running`, { hint: `see it with \`kiab exec ${machine.name} -- ps -ef\`` }),
  });
}
