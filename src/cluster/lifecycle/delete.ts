import { LABEL } from '../../labels.js';
import type { Provider } from '../../provider/types.js';
import type { Reporter } from '../../reporter.js';
import { forgetKubeconfig } from '../kubernetes/kubeconfig.js';
import { withClusterLock } from '../lock.js';
import { forEachBounded } from '../../parallel.js';
import { listClusterNames } from './observe.js';
import { removeAllSnapshots } from '../snapshot/snapshot.js';

export interface DeleteResult {
  name: string;
  containers: number;
  networks: number;
  volumes: number;
  snapshots: number;
  kubeconfigEntriesRemoved: boolean;
}

/**
 * Removes everything labelled with the cluster's name: containers first (they hold the network and
 * volumes), then the network, then volumes, then its kubeconfig entries. Finding nothing is success, so
 * delete always converges.
 */
export async function deleteCluster(
  provider: Provider,
  name: string,
  options: { keepSnapshots?: boolean; reporter?: Reporter; signal?: AbortSignal } = {},
): Promise<DeleteResult> {
  return withClusterLock(
    name,
    async () => {
      const selector = { [LABEL.managed]: '', [LABEL.cluster]: name };
      const containers = await provider.listContainers(selector);
      await forEachBounded(containers, 8, (container) => provider.removeContainer(container.name));
      const networks = await provider.listNetworks(selector);
      for (const network of networks) await provider.removeNetwork(network.name);
      const volumes = (await provider.listVolumes(selector)).filter((volume) => !(options.keepSnapshots && volume.labels[LABEL.snapshot]));
      const snapshots = options.keepSnapshots ? 0 : await removeAllSnapshots(provider, name);
      await forEachBounded(volumes, 8, (volume) => provider.removeVolume(volume.name));
      const kubeconfigEntriesRemoved = await forgetKubeconfig(name);
      return { name, containers: containers.length, networks: networks.length, volumes: volumes.length, snapshots, kubeconfigEntriesRemoved };
    },
    {
      engine: provider.endpoint,
      ...(options.reporter ? { reporter: options.reporter } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}

function summary(result: DeleteResult): string {
  const removed = result.containers + result.networks + result.volumes + result.snapshots;
  return removed === 0
    ? 'nothing to remove'
    : `${result.containers} containers, ${result.networks} networks, ${result.volumes} volumes, ${result.snapshots} snapshots`;
}

/** `kiab delete`: the named clusters, or every kiab cluster the engine holds (`all`), one reported step each. */
export async function deleteClusters(
  provider: Provider,
  reporter: Reporter,
  targets: { names: string[] } | { all: true },
  options: { keepSnapshots?: boolean; signal?: AbortSignal } = {},
): Promise<DeleteResult[]> {
  await provider.ping();
  const names = 'all' in targets ? await listClusterNames(provider) : targets.names;
  const results: DeleteResult[] = [];
  for (const name of names) {
    const step = reporter.step(`delete ${name}`);
    try {
      const result = await deleteCluster(provider, name, { ...options, reporter });
      step.done(summary(result));
      results.push(result);
    } catch (error) {
      step.fail(error);
      throw error;
    }
  }
  return results;
}
