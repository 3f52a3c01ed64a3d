import { distributionFor, type MachineRef } from '../distribution/index.js';
import { KiabError, UsageError } from '../errors.js';
import { LABEL, type MachineRole } from '../labels.js';
import { machineAddress, MAX_SERVER_INDEX, MAX_WORKER_INDEX } from '../net/addresses.js';
import type { Provider } from '../provider/types.js';
import { parseDuration } from '../spec/duration.js';
import { distributionContext, observedSubnet, type ClusterContext } from './context.js';
import { withClusterLock } from './lock.js';
import { ensureMachinesRunning, refreshForwards, waitForMachines } from './machines.js';
import { waitUntilReady } from './ready.js';
import { clusterNames, parseMachineName } from './names.js';
import { observeCluster, type ObservedCluster } from './observe.js';
import { runStep, type Reporter } from './reporter.js';
import { statusOf, type NodeStatus } from './status.js';
import { nodeImageOf } from './topology.js';

export interface NodeOptions {
  provider: Provider;
  reporter: Reporter;
  signal?: AbortSignal;
}

/** Accepts `kiab-NAME-worker-0`, or `worker-0` together with the cluster name. */
export async function resolveNode(provider: Provider, node: string, cluster?: string): Promise<{ cluster: string; name: string; role: MachineRole; index: number }> {
  const parsed = parseMachineName(node) ?? (cluster !== undefined ? parseMachineName(`kiab-${cluster}-${node}`) : undefined);
  if (!parsed) throw new UsageError(`NODE: "${node}" is not a machine name such as kiab-NAME-worker-0 (or worker-0 with --cluster NAME)`);
  const name = clusterNames(parsed.cluster).machine(parsed.role, parsed.index);
  const container = await provider.inspectContainer(name);
  if (!container || container.labels[LABEL.cluster] !== parsed.cluster) {
    throw new KiabError(`node ${name} does not exist`, { hint: `see the nodes with \`kiab status ${parsed.cluster}\`` });
  }
  return { ...parsed, name };
}

type ResolvedNode = Awaited<ReturnType<typeof resolveNode>>;

/** Resolves NODE on a reachable engine, then runs `work` holding its cluster's lock. */
async function withNodeLock<T>(options: NodeOptions & { node: string; cluster?: string }, work: (node: ResolvedNode) => Promise<T>): Promise<T> {
  await options.provider.ping();
  const node = await resolveNode(options.provider, options.node, options.cluster);
  return withClusterLock(node.cluster, () => work(node));
}

async function clusterContext(provider: Provider, observed: ObservedCluster, signal?: AbortSignal): Promise<ClusterContext> {
  const subnet = observedSubnet(observed);
  if (!observed.spec || !observed.ports || !subnet || !observed.network) {
    throw new KiabError(`cluster ${observed.name} is incomplete`, { hint: `run \`kiab up ${observed.name}\` to finish it` });
  }
  const distribution = distributionFor(observed.spec.distribution);
  const nodeImage = (await distribution.nodeImage(observed.spec, nodeImageOf(observed.spec)))?.tag ?? nodeImageOf(observed.spec);
  return { provider, spec: observed.spec, names: clusterNames(observed.name), subnet, ports: observed.ports, distribution, nodeImage, ...(signal ? { signal } : {}) };
}

function machineRefs(context: ClusterContext, observed: ObservedCluster): MachineRef[] {
  return observed.machines.map((machine) => ({ name: machine.container.name, role: machine.role, index: machine.index, ip: machineAddress(context.subnet, machine.role, machine.index) }));
}

async function nodeStatusOf(provider: Provider, cluster: string, name: string): Promise<NodeStatus> {
  const status = await statusOf(provider, await observeCluster(provider, cluster));
  const node = status.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new KiabError(`node ${name} disappeared`);
  return node;
}

export async function addNode(options: NodeOptions & { cluster: string; role: MachineRole }): Promise<NodeStatus> {
  const { provider, reporter } = options;
  await provider.ping();
  return withClusterLock(options.cluster, async () => {
    const observed = await observeCluster(provider, options.cluster);
    if (!observed.network) throw new KiabError(`cluster ${options.cluster} does not exist`, { hint: `create it with \`kiab up ${options.cluster}\`` });
    const context = await clusterContext(provider, observed, options.signal);
    const taken = observed.machines.filter((machine) => machine.role === options.role).map((machine) => machine.index);
    const index = taken.length === 0 ? 0 : Math.max(...taken) + 1;
    if (index > (options.role === 'server' ? MAX_SERVER_INDEX : MAX_WORKER_INDEX)) throw new KiabError(`cluster ${options.cluster} has no address left for another ${options.role}`);
    const machine: MachineRef = { name: context.names.machine(options.role, index), role: options.role, index, ip: machineAddress(context.subnet, options.role, index) };
    const deadline = Date.now() + (parseDuration(context.spec.wait) ?? 300_000);
    const machines = [...machineRefs(context, observed), machine];
    const started = await runStep(reporter, `create ${machine.name}`, () => ensureMachinesRunning(context, [machine], new Map(), () => undefined, machines));
    await runStep(reporter, 'boot', () => waitForMachines(context, [machine], started, deadline, () => undefined));
    await refreshForwards(context, machines);
    if (context.distribution.name !== 'none') {
      await runStep(reporter, `join ${context.distribution.name}`, (progress) => context.distribution.join(distributionContext(context, machines, (detail) => progress.update(detail), deadline), machine));
      await runStep(reporter, 'wait for Kubernetes', (progress) => waitUntilReady(context, machines, deadline, (detail) => progress.update(detail)));
    }
    return nodeStatusOf(provider, options.cluster, machine.name);
  });
}

export async function startNode(options: NodeOptions & { node: string; cluster?: string }): Promise<NodeStatus> {
  const { provider, reporter } = options;
  return withNodeLock(options, async (node) => {
    const observed = await observeCluster(provider, node.cluster);
    const context = await clusterContext(provider, observed, options.signal);
    const existing = new Map(observed.machines.map((machine) => [machine.container.name, machine.container]));
    const ref = machineRefs(context, observed).find((machine) => machine.name === node.name)!;
    const deadline = Date.now() + (parseDuration(context.spec.wait) ?? 300_000);
    const started = await runStep(reporter, `start ${node.name}`, () => ensureMachinesRunning(context, [ref], existing, () => undefined));
    await runStep(reporter, 'boot', () => waitForMachines(context, [ref], started, deadline, () => undefined));
    return nodeStatusOf(provider, node.cluster, node.name);
  });
}

export async function stopNode(options: NodeOptions & { node: string; cluster?: string }): Promise<NodeStatus> {
  const { provider, reporter } = options;
  return withNodeLock(options, async (node) => {
    await runStep(reporter, `stop ${node.name}`, () => provider.stopContainer(node.name, 30));
    return nodeStatusOf(provider, node.cluster, node.name);
  });
}

export async function removeNode(options: NodeOptions & { node: string; cluster?: string }): Promise<{ name: string; removed: true }> {
  const { provider, reporter } = options;
  return withNodeLock(options, async (node) => {
    const observed = await observeCluster(provider, node.cluster);
    const context = await clusterContext(provider, observed, options.signal);
    const machines = machineRefs(context, observed);
    const servers = machines.filter((machine) => machine.role === 'server');
    if (node.role === 'server' && servers.length === 1) {
      throw new UsageError(`NODE: ${node.name} is the only server of cluster ${node.cluster}`, `delete the cluster instead: kiab delete ${node.cluster}`);
    }
    const machine = machines.find((candidate) => candidate.name === node.name)!;
    const remaining = machines.filter((candidate) => candidate.name !== node.name);
    if (context.distribution.name !== 'none') await runStep(reporter, `leave ${context.distribution.name}`, (progress) => context.distribution.leave(distributionContext(context, machines, (detail) => progress.update(detail)), machine));
    await runStep(reporter, `remove ${node.name}`, async () => {
      await provider.removeContainer(node.name);
      const volumes = await provider.listVolumes({ [LABEL.managed]: '', [LABEL.cluster]: node.cluster });
      const prefix = `${node.name}-`;
      for (const volume of volumes) if (volume.name.startsWith(prefix)) await provider.removeVolume(volume.name);
    });
    await refreshForwards(context, remaining);
    await context.distribution.membershipChanged(distributionContext(context, remaining, () => undefined));
    return { name: node.name, removed: true as const };
  });
}
