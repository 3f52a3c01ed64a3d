import { join } from 'node:path';
import type { AssetManifest } from '../../assets/cache.js';
import { hostReach, listenAddressOf } from '../../net/ports.js';
import { run } from '../../provider/run.js';
import { ArchivePusher } from '../../registry/archive-push.js';
import { basicAuthorization } from '../../registry/index.js';
import { upstreamMirrorFile, upstreamMirrorPath } from '../../registry/upstream-mirror.js';
import { settleAll } from '../../settle.js';
import type { LoadedCluster } from '../context.js';
import { registryCredentialsOf } from '../lifecycle/registry-auth.js';
import { clusterRegistry } from '../lifecycle/topology.js';

/** Where in the box registry the suite's images are kept, apart from the user's own repositories. */
const PREFIX = 'kiab-conformance';
const UPSTREAM = 'registry.k8s.io';
/** A push of the whole suite (about 1.7 GiB, 0.7 GiB of distinct layers) from the host takes seconds here. */
const PUSH_DEADLINE_MS = 10 * 60_000;
const STEP_DEADLINE_MS = 5 * 60_000;

/** The suite's images as `[archive, reference]`, split into those the cluster registry serves and the rest. */
export function mirroredImages(
  cluster: LoadedCluster,
  images: AssetManifest['images'],
): { mirrored: Array<[string, string]>; loaded: Array<[string, string]> } {
  const all = Object.entries(images).sort();
  if (!clusterRegistry(cluster.spec, cluster.names, cluster.ports)) return { mirrored: [], loaded: all };
  const upstream = ([, ref]: [string, string]): boolean => ref.startsWith(`${UPSTREAM}/`);
  return { mirrored: all.filter(upstream), loaded: all.filter((image) => !upstream(image)) };
}

/**
 * Some specs pull with policy Always (an image volume, the pod certificate servers), and the others pull what a
 * machine lacks: offline there is no registry.k8s.io to ask. For the run, the cluster's own registry answers
 * for it: the host pushes the suite's images there from their archives (see ArchivePusher: no machine imports
 * all of them first, each pulls just the images of the specs it runs), and every machine's containerd asks it
 * first. The returned function takes the mirror away again.
 */
export async function mirrorSuiteImages(
  cluster: LoadedCluster,
  dir: string,
  images: Array<[string, string]>,
  signal?: AbortSignal,
): Promise<() => Promise<void>> {
  const registry = clusterRegistry(cluster.spec, cluster.names, cluster.ports);
  if (!registry || images.length === 0) return () => Promise.resolve();
  const login = await registryCredentialsOf(cluster.provider, cluster.spec, cluster.names, cluster.observed);
  const deadline = AbortSignal.timeout(PUSH_DEADLINE_MS);
  const pusher = new ArchivePusher(
    {
      base: `http://${hostReach(listenAddressOf(cluster.spec.ports))}:${cluster.ports.registry}`,
      ...(login ? { authorization: basicAuthorization(login.credentials) } : {}),
    },
    signal ? AbortSignal.any([signal, deadline]) : deadline,
  );
  for (const [archive, ref] of images) {
    const [repository, tag] = ref.slice(UPSTREAM.length + 1).split(':') as [string, string];
    await pusher.push(join(dir, archive), `${PREFIX}/${repository}`, tag);
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
