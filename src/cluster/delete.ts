import { LABEL } from '../labels.js';
import type { Provider } from '../provider/types.js';
import { withClusterLock } from './lock.js';
import { forEachBounded } from './parallel.js';
import { removeAllSnapshots } from './snapshot.js';

export interface DeleteResult {
  name: string;
  containers: number;
  networks: number;
  volumes: number;
  snapshots: number;
}

/**
 * Removes everything labelled with the cluster's name: containers first (they hold the network and
 * volumes), then the network, then volumes. Finding nothing is success, so delete always converges.
 */
export async function deleteCluster(provider: Provider, name: string, options: { keepSnapshots?: boolean } = {}): Promise<DeleteResult> {
  return withClusterLock(name, async () => {
    const selector = { [LABEL.managed]: '', [LABEL.cluster]: name };
    const containers = await provider.listContainers(selector);
    await forEachBounded(containers, 8, (container) => provider.removeContainer(container.name));
    const networks = await provider.listNetworks(selector);
    for (const network of networks) await provider.removeNetwork(network.name);
    const volumes = (await provider.listVolumes(selector)).filter((volume) => !(options.keepSnapshots && volume.labels[LABEL.snapshot]));
    const snapshots = options.keepSnapshots ? 0 : await removeAllSnapshots(provider, name);
    await forEachBounded(volumes, 8, (volume) => provider.removeVolume(volume.name));
    return { name, containers: containers.length, networks: networks.length, volumes: volumes.length, snapshots };
  });
}
