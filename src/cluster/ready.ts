import type { MachineRef } from '../distribution/index.js';
import { boxAddress } from '../net/addresses.js';
import { distributionContext, type ClusterContext } from './context.js';
import { apiServerUrl, readUserKubeconfig, waitForKubernetes } from './kubernetes.js';

/** The kubeconfig kiab itself uses to talk to a cluster: the published loopback API port. */
export async function clusterKubeconfig(context: ClusterContext, machines: MachineRef[]): Promise<string> {
  return readUserKubeconfig(context.distribution, distributionContext(context, machines, () => undefined), context.names, apiServerUrl(context.ports, boxAddress(context.subnet), 'localhost'));
}

/** For Kubernetes distributions: every machine a Ready node and the system pods running, within the deadline. */
export async function waitUntilReady(context: ClusterContext, machines: MachineRef[], deadline: number, progress: (detail: string) => void): Promise<string | undefined> {
  if (!context.distribution.kubernetes) return undefined;
  const kubeconfig = await clusterKubeconfig(context, machines);
  await waitForKubernetes({
    kubeconfig,
    machines,
    deadline,
    distribution: context.distribution,
    context: distributionContext(context, machines, () => undefined),
    progress,
    ...(context.signal ? { signal: context.signal } : {}),
  });
  return kubeconfig;
}
