import { run } from '../../provider/run.js';
import { settleAll } from '../../settle.js';
import { upstreamMirrorFile, upstreamMirrorPath } from '../../registry/upstream-mirror.js';
import type { LoadedCluster } from '../context.js';
import { clusterRegistry } from '../lifecycle/topology.js';

/** Where in the box registry the suite's images are kept, apart from the user's own repositories. */
const PREFIX = 'kiab-conformance';
const UPSTREAM = 'registry.k8s.io';
/** A push inside the cluster network of the largest test image (agnhost, about 330 MiB) takes seconds. */
const STEP_DEADLINE_MS = 5 * 60_000;

/**
 * The machines `image load` puts the suite's images into. With a cluster registry only the one that pushes
 * them there: the others pull through the mirror just the images of the specs they run, instead of each
 * importing all of the suite's 1.7 GiB. Without one, every machine.
 */
export function suiteImageHolders(cluster: LoadedCluster): LoadedCluster['machines'] {
  const pusher = cluster.machines[0];
  return clusterRegistry(cluster.spec, cluster.names, cluster.ports) && pusher ? [pusher] : cluster.machines;
}

/**
 * Some specs pull with policy Always (an image volume, the pod certificate servers): the kubelet then asks a
 * registry for the image even though every machine holds it, and offline there is none to ask. For the run,
 * the cluster's own registry answers for registry.k8s.io: one machine pushes the suite's images there (from
 * what `image load` put in it, see suiteImageHolders), and every machine's containerd asks it first. The
 * returned function takes the mirror away again. A cluster without a registry gets nothing, and those specs
 * need the network.
 */
export async function mirrorSuiteImages(cluster: LoadedCluster, refs: string[], signal?: AbortSignal): Promise<() => Promise<void>> {
  const registry = clusterRegistry(cluster.spec, cluster.names, cluster.ports);
  const pusher = cluster.machines[0];
  if (!registry || !pusher) return () => Promise.resolve();
  const ctr = cluster.distribution.ctr();
  const bounded = () => ({ signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(STEP_DEADLINE_MS)]) : AbortSignal.timeout(STEP_DEADLINE_MS) });
  for (const ref of refs.filter((candidate) => candidate.startsWith(`${UPSTREAM}/`))) {
    const mirrored = `${registry.fromClusterNetwork}/${PREFIX}/${ref.slice(UPSTREAM.length + 1)}`;
    await run(cluster.provider, pusher.name, [...ctr, 'images', 'tag', '--force', ref, mirrored], {
      what: `naming ${ref} for the cluster registry`,
      ...bounded(),
    });
    await run(cluster.provider, pusher.name, [...ctr, 'images', 'push', '--hosts-dir', '/etc/containerd/certs.d', mirrored], {
      what: `pushing ${ref} to the cluster registry`,
      ...bounded(),
    });
    await run(cluster.provider, pusher.name, [...ctr, 'images', 'rm', mirrored], { what: 'removing the pushed name', ...bounded() });
  }
  const file = upstreamMirrorFile(UPSTREAM, registry, PREFIX);
  await Promise.all(cluster.machines.map((machine) => cluster.provider.writeFiles(machine.name, [file])));
  // Also after Ctrl-C, so not under the run's signal: only its own deadline.
  return async () => {
    await settleAll(
      cluster.machines.map((machine) =>
        run(cluster.provider, machine.name, ['rm', '-f', upstreamMirrorPath(UPSTREAM)], {
          what: 'removing the mirror',
          signal: AbortSignal.timeout(STEP_DEADLINE_MS),
        }),
      ),
    );
  };
}
