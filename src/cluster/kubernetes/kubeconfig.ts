import { KiabError } from '../../errors.js';
import { removeUserKubeconfigEntries } from '../../kubeconfig/index.js';
import { clusterNames } from '../../names.js';
import type { Provider } from '../../provider/types.js';
import { loadCluster } from '../context.js';
import { writeUserKubeconfig, type ApiAddress } from './user-kubeconfig.js';
import { clusterKubeconfig } from './wait-ready.js';

/** `kiab kubeconfig`: the cluster's kubeconfig with the API at the published loopback port or at the box. */
export async function kubeconfigOf(provider: Provider, name: string, apiAddress: ApiAddress): Promise<{ kubeconfig: string; context: string }> {
  await provider.ping();
  const cluster = await loadCluster(provider, name);
  if (!cluster.distribution.kubernetes)
    throw new KiabError(`cluster ${name} runs no Kubernetes (distribution ${cluster.distribution.name})`, { hint: 'create one with --k8s kubeadm' });
  return { kubeconfig: await clusterKubeconfig(cluster, cluster.machines, apiAddress), context: cluster.names.kubeContext };
}

/** `kiab kubeconfig --write`: merges it into a file (mode 0600), leaving every other entry alone. */
export async function writeKubeconfigOf(
  provider: Provider,
  name: string,
  options: { path: string; switchContext: boolean; apiAddress: ApiAddress },
): Promise<{ path: string; context: string }> {
  const { kubeconfig, context } = await kubeconfigOf(provider, name, options.apiAddress);
  return { path: await writeUserKubeconfig(kubeconfig, options), context };
}

/** Removes exactly the entries kiab added for the cluster from the user's kubeconfig; whether there were any. */
export function forgetKubeconfig(name: string): Promise<boolean> {
  const context = clusterNames(name).kubeContext;
  return removeUserKubeconfigEntries({ cluster: context, user: context, context });
}
