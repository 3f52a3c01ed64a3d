import type { MachineRef } from '../../distribution/index.js';
import { KiabError, UsageError } from '../../errors.js';
import { LABEL, type MachineRole } from '../../labels.js';
import { parseMachineName, type MachineName } from '../../names.js';
import { machineAddress, MAX_SERVER_INDEX, MAX_WORKER_INDEX } from '../../net/addresses.js';
import type { AttachedIo, Provider } from '../../provider/types.js';
import { runStep, type Reporter } from '../../reporter.js';
import { distributionContext, loadCluster, type LoadedCluster } from '../context.js';
import { ensureHostReady } from '../doctor.js';
import { ensureClusterImages } from './images.js';
import { withClusterLock, type ClusterLockOptions } from '../lock.js';
import { machineVolumes } from './observe.js';
import { refreshBox } from './box.js';
import { ensureMachinesRunning, waitForMachines } from './machines.js';
import { registryCredentialsOf } from './registry-auth.js';
import { addonsStep, waitUntilReady } from '../kubernetes/wait-ready.js';
import { addonPreflight } from '../kubernetes/addons.js';
import { clusterStatus, type NodeStatus } from '../status.js';

export interface NodeOptions {
  provider: Provider;
  reporter: Reporter;
  signal?: AbortSignal;
}

/** The cluster lock of a node command: on its engine, its wait told and ended by Ctrl-C. */
function nodeLock(options: NodeOptions): ClusterLockOptions {
  return { engine: options.provider.endpoint, reporter: options.reporter, ...(options.signal ? { signal: options.signal } : {}) };
}

/** Accepts `kiab-NAME-worker-0`, or `worker-0` together with the cluster name; the machine must exist. */
export async function resolveNode(provider: Provider, node: string, cluster?: string): Promise<MachineName> {
  const parsed = parseMachineName(node, cluster);
  if (!parsed) {
    const other = parseMachineName(node);
    if (other && cluster !== undefined) throw new UsageError(`NODE: ${node} is a machine of cluster ${other.cluster}, not of --cluster ${cluster}`);
    throw new UsageError(`NODE: "${node}" is not a machine name such as kiab-NAME-worker-0 (or worker-0 with --cluster NAME)`);
  }
  const container = await provider.inspectContainer(parsed.name);
  if (!container || container.labels[LABEL.cluster] !== parsed.cluster) {
    throw new KiabError(`node ${parsed.name} does not exist`, { hint: `see the nodes with \`kiab status ${parsed.cluster}\`` });
  }
  return parsed;
}

/** Resolves NODE on a reachable engine, then runs `work` on its loaded cluster, holding the cluster's lock. */
async function withNode<T>(
  options: NodeOptions & { node: string; cluster?: string },
  work: (node: MachineName, cluster: LoadedCluster) => Promise<T>,
): Promise<T> {
  await options.provider.ping();
  const node = await resolveNode(options.provider, options.node, options.cluster);
  return withClusterLock(
    node.cluster,
    async () => work(node, await loadCluster(options.provider, node.cluster, options.signal ? { signal: options.signal } : {})),
    nodeLock(options),
  );
}

async function nodeStatusOf(provider: Provider, cluster: string, name: string): Promise<NodeStatus> {
  const node = (await clusterStatus(provider, cluster)).nodes.find((candidate) => candidate.name === name);
  if (!node) throw new KiabError(`node ${name} disappeared`);
  return node;
}

function nextMachine(cluster: LoadedCluster, role: MachineRole): MachineRef {
  const taken = cluster.machines.filter((machine) => machine.role === role).map((machine) => machine.index);
  const index = taken.length === 0 ? 0 : Math.max(...taken) + 1;
  if (index > (role === 'server' ? MAX_SERVER_INDEX : MAX_WORKER_INDEX))
    throw new KiabError(`cluster ${cluster.names.cluster} has no address left for another ${role}`);
  return { name: cluster.names.machine(role, index), role, index, ip: machineAddress(cluster.subnet, role, index) };
}

/** `kiab node add`: a new machine with the next index, booted, wired into the box and joined to the distribution. */
export async function addNode(options: NodeOptions & { cluster: string; role: MachineRole }): Promise<NodeStatus> {
  const { provider, reporter } = options;
  await provider.ping();
  return withClusterLock(
    options.cluster,
    async () => {
      const loaded = await loadCluster(provider, options.cluster, options.signal ? { signal: options.signal } : {});
      // The new machine's containerd gets the registry's login (registry.auth) from the box that keeps it.
      const login = await registryCredentialsOf(provider, loaded.spec, loaded.names, loaded.observed);
      const cluster = login && !login.made ? { ...loaded, registryCredentials: login.credentials } : loaded;
      const machine = nextMachine(cluster, options.role);
      await addonPreflight(cluster.spec, cluster.distribution);
      await ensureHostReady(provider, cluster.distribution, [machine]);
      const machines = [...cluster.machines, machine];
      const images = await runStep(reporter, 'images', () => ensureClusterImages(provider, reporter, cluster.spec, [options.role], options.signal));
      const started = await runStep(reporter, `create ${machine.name}`, () =>
        ensureMachinesRunning(cluster, images, [machine], new Map(), () => undefined, machines),
      );
      await runStep(reporter, 'boot', () => waitForMachines(cluster, [machine], started, () => undefined));
      await refreshBox(cluster, machines);
      const { distribution } = cluster;
      await runStep(reporter, `join ${distribution.name}`, (progress) =>
        distribution.join(distributionContext(cluster, machines, { progress, reporter, controlPlaneUp: () => refreshBox(cluster, machines) }), machine),
      );
      if (distribution.kubernetes) {
        const kubeconfig = await runStep(reporter, 'wait for Kubernetes', (progress) => waitUntilReady(cluster, machines, (detail) => progress.update(detail)));
        // The new machine gets the addons' images, and their per-machine parts (ingress, load balancer) start there.
        if (kubeconfig) await addonsStep(cluster, machines, reporter, kubeconfig);
      }
      return nodeStatusOf(provider, options.cluster, machine.name);
    },
    nodeLock(options),
  );
}

export async function startNode(options: NodeOptions & { node: string; cluster?: string }): Promise<NodeStatus> {
  return withNode(options, async (node, cluster) => {
    const existing = new Map(cluster.observed.machines.map((machine) => [machine.container.name, machine.container]));
    const ref = cluster.machines.filter((machine) => machine.name === node.name);
    // The machine exists: the image is only what it was made from.
    const image = existing.get(node.name)!.image;
    if (existing.get(node.name)!.state !== 'running') await ensureHostReady(options.provider, cluster.distribution, ref);
    const started = await runStep(options.reporter, `start ${node.name}`, () =>
      ensureMachinesRunning(cluster, { server: image, worker: image }, ref, existing, () => undefined),
    );
    await runStep(options.reporter, 'boot', () => waitForMachines(cluster, ref, started, () => undefined));
    await refreshBox(cluster, cluster.machines);
    return nodeStatusOf(options.provider, node.cluster, node.name);
  });
}

export async function stopNode(options: NodeOptions & { node: string; cluster?: string }): Promise<NodeStatus> {
  const { provider, reporter } = options;
  await provider.ping();
  const node = await resolveNode(provider, options.node, options.cluster);
  return withClusterLock(
    node.cluster,
    async () => {
      await runStep(reporter, `stop ${node.name}`, () => provider.stopContainer(node.name, 30));
      // TCP backends are health-checked; the UDP forward is pointed at a machine that still runs.
      const cluster = await loadCluster(provider, node.cluster);
      await refreshBox(cluster, cluster.machines);
      return nodeStatusOf(provider, node.cluster, node.name);
    },
    nodeLock(options),
  );
}

/** `kiab node rm`: out of the box's load balancer, then the distribution lets the machine go (drain, leave etcd), then it and its volumes are removed. */
export async function removeNode(options: NodeOptions & { node: string; cluster?: string }): Promise<{ name: string; removed: true }> {
  const { provider, reporter } = options;
  return withNode(options, async (node, cluster) => {
    const servers = cluster.machines.filter((machine) => machine.role === 'server');
    if (node.role === 'server' && servers.length === 1) {
      throw new UsageError(`NODE: ${node.name} is the only server of cluster ${node.cluster}`, `delete the cluster instead: kiab delete ${node.cluster}`);
    }
    const machine = cluster.machines.find((candidate) => candidate.name === node.name)!;
    const remaining = cluster.machines.filter((candidate) => candidate.name !== node.name);
    const { distribution } = cluster;
    // The box stops sending it new connections first, so clients never meet a server that is shutting down.
    await refreshBox(cluster, remaining);
    await runStep(reporter, `leave ${distribution.name}`, (progress) =>
      distribution.leave(
        distributionContext(cluster, cluster.machines, { progress, reporter, controlPlaneUp: () => refreshBox(cluster, cluster.machines) }),
        machine,
      ),
    );
    await runStep(reporter, `remove ${node.name}`, async () => {
      await provider.removeContainer(node.name);
      for (const volume of machineVolumes(cluster.observed, node.name)) await provider.removeVolume(volume.name);
    });
    await distribution.membershipChanged(distributionContext(cluster, remaining));
    return { name: node.name, removed: true as const };
  });
}

/** `kiab exec` and `kiab shell`: a command in a machine with the caller's terminal attached; resolves to its exit code. */
export async function execInNode(provider: Provider, options: { node: string; cluster?: string; command: string[]; io: AttachedIo }): Promise<number> {
  await provider.ping();
  const target = await resolveNode(provider, options.node, options.cluster);
  return provider.execAttached(target.name, options.command, options.io);
}
