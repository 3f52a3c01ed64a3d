import type { MachineRef } from '../distribution/index.js';
import { KiabError, UsageError } from '../errors.js';
import { LABEL, clusterLabels, decodeIndex, encodeJsonLabel, type MachineRole } from '../labels.js';
import { machineAddress } from '../net/addresses.js';
import type { ImageInfo, Provider } from '../provider/types.js';
import { clusterNameSchema } from '../spec/schema.js';
import { kiabVersion } from '../version.js';
import { clusterContext, observedSubnet } from './context.js';
import { ensureBox, ensureNetwork } from './foundation.js';
import { withClusterLock } from './lock.js';
import { refreshForwards, waitForMachines } from './machines.js';
import { clusterNames, compareMachines, type ClusterNames } from '../names.js';
import { forEachBounded } from './parallel.js';
import { observeCluster, readPortsLabel, readSpecLabel, type ObservedCluster } from './observe.js';
import { runStep, type Reporter } from '../reporter.js';
import { waitUntilReady } from './ready.js';
import { clusterStatus, type ClusterStatus } from './status.js';
import { CONTAINERD_VOLUME, machineContainerSpec, nodeImageOf } from './topology.js';

export const CLEAN_SNAPSHOT = 'clean';

export interface SnapshotInfo {
  cluster: string;
  name: string;
  createdAt: string;
  machines: string[];
  /** Bytes of the machines' image layers as the engine counts them (shared layers counted once per image). */
  sizeBytes: number;
}

export function validateSnapshotName(name: string): string {
  if (!clusterNameSchema.safeParse(name).success) throw new UsageError(`SNAP: "${name}" must be a DNS-1123 label of at most 32 characters`);
  return name;
}

function snapshotLabels(names: ClusterNames, snapshot: string): Record<string, string> {
  return { ...clusterLabels(names.cluster, 'snapshot', kiabVersion), [LABEL.snapshot]: snapshot };
}

async function snapshotImages(provider: Provider, cluster: string, snapshot?: string): Promise<ImageInfo[]> {
  return provider.listImages({ [LABEL.managed]: '', [LABEL.cluster]: cluster, [LABEL.snapshot]: snapshot ?? '' });
}

function machineVolumePurposes(observed: ObservedCluster, machine: string): string[] {
  const prefix = `${machine}-`;
  return observed.volumes
    .filter((volume) => volume.name.startsWith(prefix) && !volume.labels[LABEL.snapshot])
    .map((volume) => volume.name.slice(prefix.length));
}

/**
 * Captures every machine at one instant: all are frozen first, then each filesystem is committed to an
 * image and each volume copied, then all are thawed, whatever happened. Runs under the caller's lock.
 */
export async function captureSnapshot(provider: Provider, observed: ObservedCluster, snapshot: string, reporter: Reporter): Promise<void> {
  const names = clusterNames(observed.name);
  if (!observed.spec || !observed.network || observed.machines.length === 0)
    throw new KiabError(`cluster ${observed.name} has no machines to snapshot`, { hint: `create it with \`kiab up ${observed.name}\`` });
  // Any image with `cp` serves for copying volumes; kiab's node image is always there.
  const helperImage = nodeImageOf(observed.spec);
  const labels = snapshotLabels(names, snapshot);
  const frozen: string[] = [];
  try {
    await runStep(reporter, `pause ${observed.machines.length} machines`, async () => {
      // Every pause settles before a failure is thrown, so the thaw below sees each machine that froze.
      const pauses = await Promise.allSettled(
        observed.machines
          .filter((machine) => machine.container.state === 'running')
          .map(async (machine) => {
            await provider.pauseContainer(machine.container.name);
            frozen.push(machine.container.name);
          }),
      );
      const failed = pauses.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    });
    await runStep(reporter, `capture snapshot ${snapshot}`, () =>
      forEachBounded(observed.machines, 8, async (machine) => {
        const purposes = machineVolumePurposes(observed, machine.container.name);
        await Promise.all(
          purposes.map((purpose) =>
            provider.copyVolume(
              names.volume(machine.container.name, purpose),
              names.snapshotVolume(snapshot, machine.role, machine.index, purpose),
              labels,
              helperImage,
            ),
          ),
        );
        await provider.commitContainer(machine.container.name, names.snapshotImage(snapshot, machine.role, machine.index), {
          ...labels,
          [LABEL.role]: machine.role,
          [LABEL.index]: String(machine.index),
          [LABEL.spec]: encodeJsonLabel(observed.spec),
          ...(observed.ports ? { [LABEL.ports]: encodeJsonLabel(observed.ports) } : {}),
          [LABEL.snapshotVolumes]: purposes.join(','),
        });
      }),
    );
  } catch (error) {
    await removeSnapshotObjects(provider, names.cluster, snapshot);
    throw error;
  } finally {
    await Promise.all(frozen.map((name) => provider.unpauseContainer(name)));
  }
}

async function removeSnapshotObjects(provider: Provider, cluster: string, snapshot: string): Promise<number> {
  const images = await snapshotImages(provider, cluster, snapshot);
  for (const image of images) for (const tag of image.tags.length ? image.tags : [image.id]) await provider.removeImage(tag);
  const volumes = await provider.listVolumes({ [LABEL.managed]: '', [LABEL.cluster]: cluster, [LABEL.snapshot]: snapshot });
  await Promise.all(volumes.map((volume) => provider.removeVolume(volume.name)));
  return images.length;
}

export async function snapshotExists(provider: Provider, cluster: string, snapshot: string): Promise<boolean> {
  return (await snapshotImages(provider, cluster, snapshot)).length > 0;
}

export interface SnapshotCommand {
  provider: Provider;
  cluster: string;
  snapshot: string;
  reporter: Reporter;
  signal?: AbortSignal;
}

export async function saveSnapshot(options: SnapshotCommand & { force?: boolean }): Promise<SnapshotInfo> {
  const { provider, cluster, snapshot, reporter } = options;
  await provider.ping();
  return withClusterLock(cluster, async () => {
    const observed = await observeCluster(provider, cluster);
    if (!observed.network) throw new KiabError(`cluster ${cluster} does not exist`, { hint: `create it with \`kiab up ${cluster}\`` });
    if (await snapshotExists(provider, cluster, snapshot)) {
      if (!options.force) throw new UsageError(`SNAP: snapshot ${snapshot} of cluster ${cluster} exists`, 'pass --force to replace it, or choose another name');
      await removeSnapshotObjects(provider, cluster, snapshot);
    }
    await captureSnapshot(provider, observed, snapshot, reporter);
    const info = (await listSnapshots(provider, cluster)).find((candidate) => candidate.name === snapshot);
    if (!info) throw new KiabError(`snapshot ${snapshot} vanished after it was saved`);
    return info;
  });
}

export async function listSnapshots(provider: Provider, cluster?: string): Promise<SnapshotInfo[]> {
  const images = await provider.listImages({ [LABEL.managed]: '', [LABEL.snapshot]: '', ...(cluster ? { [LABEL.cluster]: cluster } : {}) });
  const byKey = new Map<string, SnapshotInfo>();
  for (const image of images) {
    const clusterName = image.labels[LABEL.cluster];
    const name = image.labels[LABEL.snapshot];
    if (!clusterName || !name) continue;
    const key = `${clusterName}/${name}`;
    const info = byKey.get(key) ?? { cluster: clusterName, name, createdAt: image.createdAt.toISOString(), machines: [], sizeBytes: 0 };
    info.machines.push(clusterNames(clusterName).machine(image.labels[LABEL.role] as MachineRole, decodeIndex(image.labels) ?? 0));
    info.sizeBytes += image.sizeBytes;
    if (image.createdAt.toISOString() < info.createdAt) info.createdAt = image.createdAt.toISOString();
    byKey.set(key, info);
  }
  for (const info of byKey.values()) info.machines.sort();
  return [...byKey.values()].sort((a, b) => (a.cluster === b.cluster ? a.createdAt.localeCompare(b.createdAt) : a.cluster.localeCompare(b.cluster)));
}

export async function removeSnapshot(options: { provider: Provider; cluster: string; snapshot: string }): Promise<boolean> {
  await options.provider.ping();
  return withClusterLock(options.cluster, async () => (await removeSnapshotObjects(options.provider, options.cluster, options.snapshot)) > 0);
}

/** Removes every snapshot of a cluster (delete without --keep-snapshots). */
export async function removeAllSnapshots(provider: Provider, cluster: string): Promise<number> {
  const snapshots = await listSnapshots(provider, cluster);
  for (const snapshot of snapshots) await removeSnapshotObjects(provider, cluster, snapshot.name);
  return snapshots.length;
}

/**
 * Brings every machine back to the snapshot: current machines (and their volumes) are removed, and the
 * snapshot's machines recreated from its images under the same names, hostnames and addresses, with their
 * volumes copied back from the snapshot's. Nothing is downloaded or imported. A cluster that was deleted
 * with --keep-snapshots gets its network and box back first.
 */
export async function restoreSnapshot(options: SnapshotCommand): Promise<ClusterStatus> {
  const { provider, cluster, snapshot, reporter } = options;
  await provider.ping();
  return withClusterLock(cluster, async () => {
    const images = await snapshotImages(provider, cluster, snapshot);
    if (images.length === 0) throw new KiabError(`cluster ${cluster} has no snapshot ${snapshot}`, { hint: `see \`kiab snapshot list\`` });
    const spec = readSpecLabel(images[0]!.labels);
    const ports = readPortsLabel(images[0]!.labels);
    if (!spec || !ports) throw new KiabError(`snapshot ${snapshot} of ${cluster} lacks its spec labels; it was not made by this kiab`);
    const names = clusterNames(cluster);
    let observed = await observeCluster(provider, cluster);
    const subnet = observed.network ? observedSubnet(observed)! : await ensureNetwork(provider, spec, names, observed, ports);
    if (!observed.network) observed = await observeCluster(provider, cluster);
    const context = clusterContext(provider, spec, subnet, ports, options.signal);
    const machines: Array<MachineRef & { image: string; purposes: string[] }> = images.map((image) => {
      const role = image.labels[LABEL.role] as MachineRole;
      const index = decodeIndex(image.labels) ?? 0;
      const ref = image.tags[0] ?? names.snapshotImage(snapshot, role, index);
      return {
        name: names.machine(role, index),
        role,
        index,
        ip: machineAddress(subnet, role, index),
        image: ref,
        purposes: (image.labels[LABEL.snapshotVolumes] ?? CONTAINERD_VOLUME.purpose).split(',').filter(Boolean),
      };
    });
    machines.sort(compareMachines);

    await runStep(reporter, `remove ${observed.machines.length} machines`, () =>
      forEachBounded(observed.machines, 8, async (machine) => {
        await provider.removeContainer(machine.container.name);
        for (const purpose of machineVolumePurposes(observed, machine.container.name))
          await provider.removeVolume(names.volume(machine.container.name, purpose));
      }),
    );
    const started = new Map<string, Date>();
    await runStep(reporter, `restore ${machines.length} machines from ${snapshot}`, () =>
      forEachBounded(
        machines,
        8,
        async (machine) => {
          const volumeLabels = { ...clusterLabels(cluster, 'volume', kiabVersion) };
          // A volume left by an interrupted restore would merge with the copy: start from nothing.
          for (const purpose of machine.purposes) await provider.removeVolume(names.volume(machine.name, purpose));
          await Promise.all(
            machine.purposes.map((purpose) =>
              provider.copyVolume(
                names.snapshotVolume(snapshot, machine.role, machine.index, purpose),
                names.volume(machine.name, purpose),
                volumeLabels,
                machine.image,
              ),
            ),
          );
          const containerSpec = machineContainerSpec(spec, names, machine, context.distribution, machine.image);
          // Labels inherited from the snapshot image would mark the machine as a snapshot: restate them.
          await provider.createContainer({
            ...containerSpec,
            image: machine.image,
            labels: { ...containerSpec.labels, [LABEL.snapshot]: '', [LABEL.snapshotVolumes]: '', [LABEL.spec]: '', [LABEL.ports]: '' },
          });
          await provider.startContainer(machine.name);
          started.set(machine.name, (await provider.inspectContainer(machine.name))?.startedAt ?? new Date());
        },
        options.signal,
      ),
    );
    await runStep(reporter, 'boot', (progress) => waitForMachines(context, machines, started, (detail) => progress.update(detail)));
    await runStep(reporter, `box ${names.box}`, () => ensureBox(context, observed, machines));
    await refreshForwards(context, machines);
    if (context.distribution.kubernetes)
      await runStep(reporter, 'wait for Kubernetes', (progress) => waitUntilReady(context, machines, (detail) => progress.update(detail)));
    return clusterStatus(provider, cluster);
  });
}
