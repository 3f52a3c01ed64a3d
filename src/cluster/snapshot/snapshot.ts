import type { MachineRef } from '../../distribution/index.js';
import { KiabError, throwIfAborted, UsageError } from '../../errors.js';
import { LABEL, encodeJsonLabel } from '../../labels.js';
import { undoOnForcedExit } from '../../forced-exit.js';
import { settleAll } from '../../settle.js';
import { machineAddress, parseSubnet, type Subnet } from '../../net/addresses.js';
import type { Provider } from '../../provider/types.js';
import { clusterContext, contextOf, observedSubnet, type ClusterContext } from '../context.js';
import { ensureBox, ensureNetwork } from '../lifecycle/foundation.js';
import { withClusterLock, type ClusterLockOptions } from '../lock.js';
import { boxReadsFromMachines, refreshBox } from '../lifecycle/box.js';
import { waitForMachines } from '../lifecycle/machines.js';
import { clusterNames, compareMachines } from '../../names.js';
import { forEachBounded } from '../../parallel.js';
import { freezeMachine } from './freeze.js';
import { holdOffLooks } from './pause-guard.js';
import { machineVolumes, observeCluster, readPortsLabel, readSpecLabel, type ObservedCluster } from '../lifecycle/observe.js';
import { runStep, type Reporter } from '../../reporter.js';
import { finishKubernetes, waitUntilReady } from '../kubernetes/wait-ready.js';
import { awaitAddons, wantedAddons } from '../kubernetes/addons.js';
import type { KubeconfigOptions } from '../kubernetes/user-kubeconfig.js';
import { clusterStatus, type ClusterStatus } from '../status.js';
import { recordVersion } from '../lifecycle/version-record.js';
import {
  capturedPurposes,
  capturedSubnet,
  capturedVolume,
  completeSnapshot,
  imageMachine,
  newGeneration,
  removeStored,
  snapshotLabels,
  storedSnapshots,
  type StoredSnapshot,
} from './snapshot-store.js';
import { clusterRegistry, machineContainerSpec, machineFiles, machineVolumeLabels, nodeImageOf, volumeHelperLabels } from '../lifecycle/topology.js';
import { registryLogin } from '../lifecycle/registry-auth.js';

export const CLEAN_SNAPSHOT = 'clean';

/** Where a restore merges the cluster's kubeconfig entry unless told otherwise: the default file, the current context left alone. */
const RESTORED_KUBECONFIG: KubeconfigOptions = { switchContext: false, apiAddress: 'localhost' };

export interface SnapshotInfo {
  cluster: string;
  name: string;
  createdAt: string;
  machines: string[];
  /** Bytes of the machines' image layers as the engine counts them (shared layers counted once per image). */
  sizeBytes: number;
}

/**
 * Lower-case letters, digits, "-" and "." (so a snapshot can carry a version: pre-upgrade-v1.36.3), starting and
 * ending with a letter or digit. The parts that follow it in object names (generation, machine, purpose) hold no
 * "." of their own, so names stay unambiguous.
 */
const SNAPSHOT_NAME = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
const MAX_SNAPSHOT_NAME = 40;

export function validateSnapshotName(name: string): string {
  if (name.length > MAX_SNAPSHOT_NAME || !SNAPSHOT_NAME.test(name))
    throw new UsageError(
      `SNAP: "${name}" must be at most ${MAX_SNAPSHOT_NAME} lower-case letters, digits, "-" and ".", starting and ending with a letter or digit`,
    );
  return name;
}

/**
 * Captures every machine at one instant as a new generation of the snapshot: all are frozen first, then
 * each filesystem is committed to an image and each volume copied. Each machine is thawed as soon as its own
 * capture is made: the instant they share is the one at which all were frozen, and what a thawed machine does
 * next reaches no frozen one's filesystem or volumes. A worker serving an app is so frozen for its own commit,
 * not for the server's larger one too. Any still frozen are thawed at the end, whatever happened. Only a
 * complete capture replaces the snapshot's previous one; a failed one is removed. Runs under the caller's lock.
 */
export async function captureSnapshot(
  provider: Provider,
  observed: ObservedCluster,
  snapshot: string,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<void> {
  const names = clusterNames(observed.name);
  if (!observed.spec || !observed.network || observed.machines.length === 0)
    throw new KiabError(`cluster ${observed.name} has no machines to snapshot`, { hint: `create it with \`kiab up ${observed.name}\`` });
  // Any image with `cp` serves for copying volumes; kiab's node image is always there.
  const helperImage = nodeImageOf(observed.spec);
  const generation = newGeneration();
  const labels = snapshotLabels(names.cluster, snapshot, generation);
  // A machine an earlier capture left paused is frozen already: it is captured as it is and unpaused with the rest.
  const frozen: string[] = observed.machines.filter((machine) => machine.container.state === 'paused').map((machine) => machine.container.name);
  const running = observed.machines.filter((machine) => machine.container.state === 'running');
  const unpauseAll = async (): Promise<void> => {
    await settleAll(frozen.map((name) => provider.unpauseContainer(name)));
  };
  /** Each machine's freeze, from the moment its pause is asked for until the engine answered it. */
  const freezes: Array<Promise<void>> = [];
  // A second Ctrl-C leaves before the finally below: the machines are unpaused all the same. A pause asked for
  // just before it may be carried out by the engine after kiab looked at what is frozen, so every freeze under
  // way is waited for first (each is one engine call, itself under a deadline).
  const forgetUndo = undoOnForcedExit(async () => {
    await Promise.allSettled(freezes);
    await unpauseAll();
  });
  // No look of `kiab status` or `list` may be starting an exec in a machine as it is paused (see pause-guard.ts).
  const liftHold = running.length > 0 ? await holdOffLooks(names.cluster, signal) : async () => undefined;
  try {
    if (running.length > 0)
      await runStep(reporter, `pause ${running.length} machines`, async () => {
        for (const machine of running)
          freezes.push(
            freezeMachine(provider, machine.container.name, signal).then(() => {
              frozen.push(machine.container.name);
            }),
          );
        // Every pause settles before a failure is thrown, so the thaw below sees each machine that froze.
        await settleAll(freezes);
      });
    // Ctrl-C stops the capture between machines; the catch below removes what it made, the old capture stays.
    await runStep(reporter, `capture snapshot ${snapshot}`, () =>
      forEachBounded(
        observed.machines,
        8,
        async (machine, stop) => {
          throwIfAborted(stop);
          // A machine that never started has its volumes as the engine filled them from its image (no machine
          // file lies on a volume): a restore has the engine fill them again from the captured image.
          const volumes = machine.container.state === 'created' ? [] : machineVolumes(observed, machine.container.name);
          // The machine is frozen: its volumes and its filesystem are captured side by side.
          const machineLabels = { ...labels, [LABEL.machine]: machine.container.name };
          const copies = provider.copyVolumes(
            volumes.map((volume) => ({
              from: volume.name,
              to: names.snapshotVolume(snapshot, generation, machine.role, machine.index, volume.purpose),
              labels: { ...machineLabels, [LABEL.purpose]: volume.purpose },
            })),
            { image: helperImage, labels: machineLabels },
          );
          const commit = provider.commitContainer(machine.container.name, names.snapshotImage(snapshot, generation, machine.role, machine.index), {
            ...labels,
            [LABEL.role]: machine.role,
            [LABEL.index]: String(machine.index),
            [LABEL.machine]: machine.container.name,
            [LABEL.spec]: encodeJsonLabel(observed.spec),
            ...(observed.ports ? { [LABEL.ports]: encodeJsonLabel(observed.ports) } : {}),
            [LABEL.snapshotVolumes]: volumes.map((volume) => volume.purpose).join(','),
            [LABEL.snapshotMachines]: String(observed.machines.length),
          });
          // Every part settles before a failure is thrown, so the clean-up below sees all that was made.
          await settleAll([copies, commit]);
          const name = machine.container.name;
          if (frozen.includes(name)) {
            await provider.unpauseContainer(name);
            frozen.splice(frozen.indexOf(name), 1);
          }
        },
        signal,
      ),
    );
  } catch (error) {
    for (const stored of await storedSnapshots(provider, names.cluster, snapshot)) if (stored.generation === generation) await removeStored(provider, stored);
    throw error;
  } finally {
    await unpauseAll();
    await liftHold();
    forgetUndo();
  }
  // The new capture is complete: only now do older ones (and any cut short) go.
  for (const stored of await storedSnapshots(provider, names.cluster, snapshot)) if (stored.generation !== generation) await removeStored(provider, stored);
}

/**
 * Unpauses the machines an earlier capture left paused (kiab killed mid-capture): a paused machine answers no
 * exec, and every wait on it would fail. The cluster as it is now, looked at again when anything changed.
 */
export async function unpauseLeftPaused(provider: Provider, observed: ObservedCluster): Promise<ObservedCluster> {
  const paused = observed.machines.filter((machine) => machine.container.state === 'paused');
  if (paused.length === 0) return observed;
  await settleAll(paused.map((machine) => provider.unpauseContainer(machine.container.name)));
  return observeCluster(provider, observed.name);
}

export async function snapshotExists(provider: Provider, cluster: string, snapshot: string): Promise<boolean> {
  return (await completeSnapshot(provider, cluster, snapshot)) !== undefined;
}

export interface SnapshotCommand {
  provider: Provider;
  cluster: string;
  snapshot: string;
  reporter: Reporter;
  signal?: AbortSignal;
  /** restore: where and how the kubeconfig entry goes back (default: merged, the current context left alone). */
  kubeconfig?: KubeconfigOptions;
}

/**
 * A capture pauses the machines, and the box's load balancer marks a paused API down: commands that capture
 * return once Kubernetes answers through it again and the addons work, so the next kubectl does not meet a gap. One healthy look
 * is enough there: the freeze of a capture lasts a second or two, well inside every lease and timeout of the
 * control plane, so nothing is restarting that a second look would catch.
 */
export async function untilKubernetesAnswers(context: ClusterContext, machines: MachineRef[], reporter: Reporter): Promise<void> {
  if (!context.distribution.kubernetes) return;
  const kubeconfig = await runStep(reporter, 'wait for Kubernetes', (progress) =>
    waitUntilReady(context, machines, (detail) => progress.update(detail), { healthyLooks: 1 }),
  );
  // The pause stopped the addons' pods too, and one may have lost its readiness meanwhile (metrics-server, whose
  // API the API server then counts unavailable for a while): each is awaited, as after a restore.
  if (kubeconfig && wantedAddons(context.spec, context.distribution).length > 0)
    await runStep(reporter, 'wait for addons', (progress) => awaitAddons(context, kubeconfig, (detail) => progress.update(detail)));
}

/** The cluster lock of a snapshot command: on its engine, its wait told and ended by Ctrl-C. */
function snapshotLock(options: Omit<SnapshotCommand, 'reporter'> & { reporter?: Reporter }): ClusterLockOptions {
  return {
    engine: options.provider.endpoint,
    ...(options.reporter ? { reporter: options.reporter } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

export async function saveSnapshot(options: SnapshotCommand & { force?: boolean }): Promise<SnapshotInfo> {
  const { provider, cluster, snapshot, reporter } = options;
  await provider.ping();
  return withClusterLock(
    cluster,
    async () => {
      const observed = await observeCluster(provider, cluster);
      if (!observed.network) throw new KiabError(`cluster ${cluster} does not exist`, { hint: `create it with \`kiab up ${cluster}\`` });
      // With --force the old snapshot stays until the new one is complete: a failed save loses nothing.
      if (!options.force && (await snapshotExists(provider, cluster, snapshot)))
        throw new UsageError(`SNAP: snapshot ${snapshot} of cluster ${cluster} exists`, 'pass --force to replace it, or choose another name');
      await captureSnapshot(provider, observed, snapshot, reporter, options.signal);
      const context = contextOf(provider, observed, options.signal);
      if (context) await untilKubernetesAnswers(context, context.machines, reporter);
      const info = (await listSnapshots(provider, cluster)).find((candidate) => candidate.name === snapshot);
      if (!info) throw new KiabError(`snapshot ${snapshot} vanished after it was saved`);
      return info;
    },
    snapshotLock(options),
  );
}

function infoOf(stored: StoredSnapshot): SnapshotInfo {
  return {
    cluster: stored.cluster,
    name: stored.name,
    createdAt: stored.createdAt.toISOString(),
    machines: stored.images.map((image) => imageMachine(stored.cluster, image).name).sort(),
    sizeBytes: stored.images.reduce((total, image) => total + image.sizeBytes, 0),
  };
}

/** Complete snapshots only: a capture that was cut short is nothing a user can restore. */
export async function listSnapshots(provider: Provider, cluster?: string): Promise<SnapshotInfo[]> {
  const complete = (await storedSnapshots(provider, cluster)).filter((stored) => stored.complete).map(infoOf);
  return complete.sort((a, b) => (a.cluster === b.cluster ? a.createdAt.localeCompare(b.createdAt) : a.cluster.localeCompare(b.cluster)));
}

export async function removeSnapshot(options: Omit<SnapshotCommand, 'reporter'> & { reporter?: Reporter }): Promise<boolean> {
  await options.provider.ping();
  return withClusterLock(
    options.cluster,
    async () => {
      const stored = await storedSnapshots(options.provider, options.cluster, options.snapshot);
      for (const capture of stored) await removeStored(options.provider, capture);
      return stored.length > 0;
    },
    snapshotLock(options),
  );
}

/** Removes every snapshot of a cluster, captures cut short included (delete without --keep-snapshots); how many complete ones there were. */
export async function removeAllSnapshots(provider: Provider, cluster: string): Promise<number> {
  const stored = await storedSnapshots(provider, cluster);
  for (const capture of stored) await removeStored(provider, capture);
  return stored.filter((capture) => capture.complete).length;
}

/** The subnet a snapshot's machines were on, from the fixed addresses their images carry. */
function snapshotSubnet(images: StoredSnapshot['images'], snapshot: string): Subnet {
  const cidr = images.map(capturedSubnet).find(Boolean);
  if (!cidr) throw new KiabError(`snapshot ${snapshot} records no machine address; it was not made by this kiab`);
  return parseSubnet(cidr);
}

/** Refuses, naming the holder, when another network of the engine holds the subnet a cluster must go back to. */
async function refuseTakenSubnet(provider: Provider, subnet: Subnet, cluster: string, snapshot: string): Promise<void> {
  const holder = (await provider.listNetworks({})).find((network) => network.subnet === subnet.cidr);
  if (!holder) return;
  const other = holder.labels[LABEL.cluster];
  throw new KiabError(
    `snapshot ${snapshot} of ${cluster} was taken on ${subnet.cidr}, which ${other ? `cluster ${other}` : `network ${holder.name}`} now holds`,
    { hint: other ? `delete cluster ${other} (\`kiab delete ${other}\`), then restore` : `remove network ${holder.name}, then restore` },
  );
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
  return withClusterLock(
    cluster,
    async () => {
      // Every part is checked before anything is removed: only a complete capture is restored. The cluster is
      // looked at meanwhile (both are listings).
      const [stored, observedAtStart] = await Promise.all([completeSnapshot(provider, cluster, snapshot), observeCluster(provider, cluster)]);
      if (!stored) {
        const cut = (await storedSnapshots(provider, cluster, snapshot)).length > 0;
        throw new KiabError(
          cut ? `snapshot ${snapshot} of cluster ${cluster} is incomplete (its capture was cut short)` : `cluster ${cluster} has no snapshot ${snapshot}`,
          {
            hint: cut ? `take it again with \`kiab snapshot save ${cluster} ${snapshot} --force\`` : 'see `kiab snapshot list`',
          },
        );
      }
      const images = stored.images;
      const spec = readSpecLabel(images[0]!.labels);
      const ports = readPortsLabel(images[0]!.labels);
      if (!spec || !ports) throw new KiabError(`snapshot ${snapshot} of ${cluster} lacks its spec labels; it was not made by this kiab`);
      const names = clusterNames(cluster);
      let observed = observedAtStart;
      // The machines' configs (kubeadm's etcd, API server and kubelet among them) hold the addresses they had at
      // capture: the cluster goes back to that subnet, or is not restored at all.
      const recorded = snapshotSubnet(images, snapshot);
      const current = observed.network ? observedSubnet(observed)! : undefined;
      if (current && current.cidr !== recorded.cidr)
        throw new KiabError(`cluster ${cluster} is on ${current.cidr}, but snapshot ${snapshot} was taken on ${recorded.cidr}`, {
          hint: `delete it with \`kiab delete ${cluster} --keep-snapshots\`, then restore`,
        });
      if (!current) await refuseTakenSubnet(provider, recorded, cluster, snapshot);
      const subnet = current ?? (await ensureNetwork(provider, { ...spec, network: { ...spec.network, subnet: recorded.cidr } }, names, observed, ports));
      if (!observed.network) observed = await observeCluster(provider, cluster);
      // A box made again here (after `delete --keep-snapshots`) gets a login of its own: the restored machines are given it too.
      const login = observed.box ? undefined : await registryLogin(provider, spec, names, observed, ports, reporter);
      const context: ClusterContext = {
        ...clusterContext(provider, spec, subnet, ports, options.signal),
        ...(login ? { registryCredentials: login.credentials } : {}),
      };
      const machines: Array<MachineRef & { image: string; volumes: Array<{ from: string; purpose: string }> }> = images.map((image) => {
        const { name, role, index } = imageMachine(cluster, image);
        return {
          name,
          role,
          index,
          ip: machineAddress(subnet, role, index),
          image: image.tags[0] ?? image.id,
          volumes: capturedPurposes(image).map((purpose) => ({ from: capturedVolume(stored, name, purpose)!.name, purpose })),
        };
      });
      machines.sort(compareMachines);

      // The restored etcd remembers every node and pod as it was at capture: readiness counts only what comes after.
      const restoredAt = new Date();
      /** The machine and its volumes: those the engine lists for it, and `more` (each removed once). */
      const removeMachine = async (name: string, more: string[] = []): Promise<void> => {
        await provider.removeContainer(name);
        const volumes = new Set([...machineVolumes(observed, name).map((volume) => volume.name), ...more]);
        await settleAll([...volumes].map((volume) => provider.removeVolume(volume)));
      };
      const remakeMachine = async (machine: (typeof machines)[number]): Promise<void> => {
        const containerSpec = machineContainerSpec(spec, names, machine, context.distribution, machine.image);
        // A volume left by an interrupted restore would merge with the copy, or stand in for the one the engine
        // fills from the image: every volume the machine will have goes too, to start from nothing.
        await removeMachine(
          machine.name,
          containerSpec.volumes.map((volume) => volume.name),
        );
        await provider.copyVolumes(
          machine.volumes.map((volume) => ({
            from: volume.from,
            to: names.volume(machine.name, volume.purpose),
            labels: machineVolumeLabels(names, machine.name, volume.purpose),
          })),
          { image: machine.image, labels: volumeHelperLabels(names, machine.name) },
        );
        // Labels inherited from the snapshot image would mark the machine as a snapshot: restate them.
        await provider.createContainer({
          ...containerSpec,
          image: machine.image,
          labels: { ...containerSpec.labels, [LABEL.snapshot]: '', [LABEL.snapshotVolumes]: '', [LABEL.spec]: '', [LABEL.ports]: '' },
        });
        if (login) await provider.writeFiles(machine.name, machineFiles(spec, clusterRegistry(spec, names, ports), login.credentials));
      };
      const gone = observed.machines.filter((machine) => !machines.some((restored) => restored.name === machine.container.name));
      const started = new Map<string, Date>();
      await runStep(reporter, `restore ${machines.length} machines from ${snapshot}`, async () => {
        // Each machine is removed (and made again from the snapshot) beside the others, one machine's copies
        // overlapping another's removal. None starts before every current one is gone, so that no etcd or
        // kubelet of the present meets the restored cluster; an interrupted restore leaves machines created,
        // not started, which the next restore removes like any other.
        await forEachBounded(
          [...machines.map((machine) => () => remakeMachine(machine)), ...gone.map((machine) => () => removeMachine(machine.container.name))],
          8,
          (work) => work(),
          options.signal,
        );
        await forEachBounded(
          machines,
          8,
          async (machine) => {
            await provider.startContainer(machine.name);
            started.set(machine.name, (await provider.inspectContainer(machine.name))?.startedAt ?? new Date());
          },
          options.signal,
        );
      });
      // The machines run the Kubernetes version of the snapshot, which an upgrade may since have moved on from;
      // a snapshot whose spec keeps no node entry's own version was taken with every machine at it.
      const everyNode = !spec.nodes.some((node) => node.kubernetesVersion !== undefined);
      await recordVersion(provider, names, readSpecLabel(observed.network?.labels) ?? spec, spec.kubernetesVersion, everyNode);
      const bootStep = async (stepContext: ClusterContext): Promise<void> => {
        await runStep(reporter, 'boot', (progress) => waitForMachines(stepContext, machines, started, (detail) => progress.update(detail)));
      };
      const boxStep = (stepContext: ClusterContext): Promise<void> =>
        runStep(reporter, `box ${names.box}`, async () => {
          // A running box only needs pointing at the restored machines; one made or started here is refreshed
          // once it runs, so that it checks the restored servers' APIs against their CA.
          const boxRunning = observed.box?.state === 'running';
          if (!boxRunning) await ensureBox(stepContext, observed, machines);
          await refreshBox(stepContext, machines);
        });
      // A box that reads nothing from inside the machines is refreshed while they boot (an exec into a machine
      // must wait for its boot). Side by side, the first failure stops the other (see forEachBounded).
      if (boxReadsFromMachines(context.distribution)) {
        await bootStep(context);
        await boxStep(context);
      } else {
        await forEachBounded([bootStep, boxStep], 2, (step, stop) => step({ ...context, signal: stop }), options.signal);
      }
      // What counts started since the restore, from a capture of a cluster that ran: two healthy looks a quarter
      // of a second apart confirm it, where a cluster that never ran before gets three. The kubeconfig entry goes
      // back too (a delete --keep-snapshots removed it), without taking the current context from another cluster.
      await finishKubernetes(context, machines, reporter, options.kubeconfig ?? RESTORED_KUBECONFIG, { since: restoredAt, healthyLooks: 2, addons: 'await' });
      return clusterStatus(provider, cluster);
    },
    snapshotLock(options),
  );
}
