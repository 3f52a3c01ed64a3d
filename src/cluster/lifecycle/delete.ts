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

/** Passes over the cluster's objects before a removal refused for a container that appeared meanwhile is final. */
const MAX_PASSES = 3;

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
      const removed = { containers: new Set<string>(), networks: new Set<string>(), volumes: new Set<string>() };
      let snapshots: number | undefined;
      for (let pass = 1; ; pass++) {
        const containers = await provider.listContainers(selector);
        await forEachBounded(containers, 8, (container) => provider.removeContainer(container.name));
        for (const container of containers) removed.containers.add(container.name);
        try {
          for (const network of await provider.listNetworks(selector)) {
            await provider.removeNetwork(network.name);
            removed.networks.add(network.name);
          }
          const volumes = (await provider.listVolumes(selector)).filter((volume) => !(options.keepSnapshots && volume.labels[LABEL.snapshot]));
          snapshots ??= options.keepSnapshots ? 0 : await removeAllSnapshots(provider, name);
          await forEachBounded(volumes, 8, async (volume) => {
            await provider.removeVolume(volume.name);
            removed.volumes.add(volume.name);
          });
          break;
        } catch (error) {
          // An up killed while the engine was creating a machine leaves that creation to finish after the
          // listing above: the machine then holds a volume or the network. Another pass removes it first.
          if (pass === MAX_PASSES || (await provider.listContainers(selector)).length === 0) throw error;
        }
      }
      const kubeconfigEntriesRemoved = await forgetKubeconfig(name);
      return {
        name,
        containers: removed.containers.size,
        networks: removed.networks.size,
        volumes: removed.volumes.size,
        snapshots: snapshots ?? 0,
        kubeconfigEntriesRemoved,
      };
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
