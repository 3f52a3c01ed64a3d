import { createHash } from 'node:crypto';
import type { ImagePreload } from '../../distribution/index.js';
import { KiabError, throwIfAborted } from '../../errors.js';
import { LABEL, MACHINE_ROLES, clusterLabels, type MachineRole } from '../../labels.js';
import type { ClusterNames } from '../../names.js';
import { run, tryRun } from '../../provider/run.js';
import type { Provider } from '../../provider/types.js';
import { runStep, type Reporter } from '../../reporter.js';
import { settleAll } from '../../settle.js';
import { splitImageRef } from '../../images/ref.js';
import { kiabVersion } from '../../version.js';
import { poll } from '../../wait.js';
import { CONTAINERD_VOLUME, machineVolumeLabels } from './topology.js';

/*
 * Preloaded node images: a machine's containerd lives on a volume, and the engine fills a new volume from
 * the image's files at that path. So the container images a role needs are imported once, into a throwaway
 * machine, and its containerd directory is kept in an image per role; every machine made from it starts
 * with them, copied by the engine as it creates the machine, instead of importing them at every `up`.
 */

/** How a preloaded image is made, in its tag: a change to the making must not reuse images made the old way. */
const RECIPE = 'import; collect garbage; stop containerd; copy /var/lib/containerd; label what was imported';

/** The image machines of `role` are made from: the node image's repository, its tag plus the role and what was loaded how. */
export function preloadedTag(nodeImage: string, role: MachineRole, digest: string): string {
  const [repository, tag] = splitImageRef(nodeImage);
  const made = createHash('sha256').update(RECIPE).update(digest).digest('hex').slice(0, 12);
  return `${repository}:${tag}-${role}-${made}`;
}

/** How long a throwaway machine's containerd may take to answer after its start. */
const CONTAINERD_START_MS = 60_000;

/**
 * The image for each role, made from `nodeImage` for each of `roles` where the engine lacks it. The throwaway
 * machines (and their helpers) carry the cluster's labels, so that `kiab delete` removes what an interrupted
 * run left; a later run (under the same cluster lock) removes it before anything else.
 */
export async function ensurePreloadedImages(options: {
  provider: Provider;
  reporter: Reporter;
  names: ClusterNames;
  nodeImage: string;
  preload: ImagePreload;
  /** The roles of the machines about to be made: only theirs are preloaded. */
  roles: MachineRole[];
  signal?: AbortSignal;
}): Promise<Record<MachineRole, string>> {
  const { provider, nodeImage, preload } = options;
  const tags = {
    server: preloadedTag(nodeImage, 'server', preload.digest('server')),
    worker: preloadedTag(nodeImage, 'worker', preload.digest('worker')),
  };
  await removeLeftovers(provider, options.names);
  const missing: MachineRole[] = [];
  for (const role of MACHINE_ROLES) if (options.roles.includes(role) && !(await provider.imageExists(tags[role]))) missing.push(role);
  if (missing.length > 0)
    await runStep(options.reporter, `preload images for ${missing.map((role) => `${role}s`).join(' and ')}`, async () => {
      // Each settles (and cleans up) before a failure is thrown: nothing is left running behind the error.
      await settleAll(missing.map((role) => preloadRole(options, role, tags[role])));
    });
  return tags;
}

/** Throwaway machines, copy helpers and their volumes that a killed run left (a helper holds the volume it copies). */
async function removeLeftovers(provider: Provider, names: ClusterNames): Promise<void> {
  const leftovers = await provider.listContainers({ [LABEL.managed]: '', [LABEL.cluster]: names.cluster, [LABEL.role]: 'preload' });
  await Promise.all(leftovers.map((container) => provider.removeContainer(container.name)));
  for (const role of MACHINE_ROLES) await provider.removeVolume(names.volume(names.preloader(role), CONTAINERD_VOLUME.purpose));
}

async function preloadRole(
  options: { provider: Provider; names: ClusterNames; nodeImage: string; preload: ImagePreload; signal?: AbortSignal },
  role: MachineRole,
  tag: string,
): Promise<void> {
  const { provider, names, nodeImage, signal } = options;
  const machine = names.preloader(role);
  const volume = names.volume(machine, CONTAINERD_VOLUME.purpose);
  const labels = clusterLabels(names.cluster, 'preload', kiabVersion);
  try {
    await provider.createContainer({
      name: machine,
      hostname: machine,
      image: nodeImage,
      kind: 'machine',
      labels,
      volumes: [{ name: volume, path: CONTAINERD_VOLUME.path, labels: machineVolumeLabels(names, machine, CONTAINERD_VOLUME.purpose) }],
      publish: [],
    });
    await provider.startContainer(machine);
    await poll(async () => ((await tryRun(provider, machine, ['ctr', 'version'])).exitCode === 0 ? true : undefined), {
      interval: 200,
      deadline: Date.now() + CONTAINERD_START_MS,
      ...(signal ? { signal } : {}),
      timeout: () => new KiabError(`${machine}: containerd did not answer within ${CONTAINERD_START_MS / 1000} s of its start`),
    });
    const loaded = await options.preload.load(provider, machine, role);
    throwIfAborted(signal);
    // An import leaves the layer blobs it unpacked to containerd's garbage collector, which had not run yet
    // by here (the server's image held 0.62 GB instead of 0.37): removing a lease with --sync runs it now.
    await run(provider, machine, ['sh', '-c', 'ctr leases delete --sync "$(ctr leases create)"'], { what: 'collecting containerd garbage' });
    // containerd's metadata is complete on disk once it has stopped.
    await run(provider, machine, ['systemctl', 'stop', 'containerd.service'], { what: 'stopping containerd' });
    await provider.bakeVolume(nodeImage, volume, CONTAINERD_VOLUME.path, tag, {
      helper: labels,
      image: { [LABEL.managed]: kiabVersion, [LABEL.recipe]: tag, [LABEL.preloaded]: [...loaded].sort().join(' ') },
    });
  } finally {
    // The helper is gone already (bakeVolume removes it, whatever happens): the machine holds the volume.
    await provider.removeContainer(machine);
    await provider.removeVolume(volume);
  }
}
