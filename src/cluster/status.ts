import { LABEL, type MachineRole } from '../labels.js';
import { boxAddress } from '../net/addresses.js';
import { BOX_PORT, listenAddressOf, LOOPBACK, NODE_PORT_RANGE, type HostPorts } from '../net/ports.js';
import type { ContainerInfo, ContainerState, Provider } from '../provider/types.js';
import { registryEndpoints, type RegistryEndpoints } from '../registry/index.js';
import type { DistributionName } from '../spec/schema.js';
import { contextOf, distributionContext, observedSubnet, type LoadedCluster } from './context.js';
import { clusterNames } from '../names.js';
import { kubernetesNodes, type KubernetesNodeInfo } from './kubernetes/api-ready.js';
import { apiServerUrl, userKubeconfig } from './kubernetes/user-kubeconfig.js';
import { addonStatuses, type AddonStatus } from './kubernetes/addons.js';
import { clusterExists, listClusterNames, observeCluster, type ObservedCluster } from './lifecycle/observe.js';
import { machineHealth, type SystemState } from './lifecycle/machines-booted.js';
import { lookUnlessPausing } from './snapshot/pause-guard.js';
import { machineSpecHash } from './lifecycle/topology.js';
import { lanOf } from './lifecycle/lan.js';
import { loadBalancerHealth } from './lifecycle/box.js';
import { addedPortBackends, addedPortName, loadBalancerPlan, type Backend, type ServerHealth } from '../loadbalancer/index.js';
import type { AddedPort } from '../net/added-ports.js';

export type ClusterState = 'running' | 'degraded' | 'stopped' | 'incomplete';

export interface NodeStatus {
  name: string;
  role: MachineRole;
  index: number;
  state: ContainerState;
  /** systemd's view, for running machines. */
  system: SystemState | null;
  ip: string | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  failedUnits: string[];
  /** Made under a different spec (image, distribution) than the cluster's. */
  outdated: boolean;
  /** The node as Kubernetes sees it, for Kubernetes distributions whose API answers. */
  kubernetes?: { node: string; ready: boolean; kubeletVersion: string | null; pods: number } | null;
}

/** A machine behind a port of the box, and its health as the box's load balancer last checked it. */
export interface PortBackend {
  machine: string;
  address: string;
  /** `unchecked`: taken without a health check (skipped when it refuses); `unknown`: the box did not say. */
  health: ServerHealth['health'] | 'unknown';
}

export interface PortForward {
  /** The box's own ports, then each added one: `port-8080`, `port-5353-udp`. */
  name: 'api' | 'http' | 'https' | 'registry' | 'nodeports' | 'nodeports-udp' | `port-${number}` | `port-${number}-udp`;
  /** Where the host reaches it, when published. */
  host: string | null;
  /** Where it is on the box, reachable on the cluster network. */
  box: string;
  /** Balanced over the backends by the box's load balancer, forwarded to one machine (UDP), or served by the box. */
  via: 'load-balancer' | 'forward' | 'box';
  backends: PortBackend[];
}

export interface ClusterStatus {
  name: string;
  state: ClusterState;
  address: string | null;
  distribution: DistributionName | null;
  /** The release the cluster runs (since an upgrade, the new one); null for bare machines. */
  kubernetesVersion: string | null;
  createdAt: string | null;
  box: { name: string; state: ContainerState | 'missing'; ip: string | null };
  registry: RegistryEndpoints | null;
  /** Whether the registry asks for a login (registry.auth). */
  registryLogin: boolean;
  nodes: NodeStatus[];
  ports: PortForward[];
  /** The box as a host on a LAN (network.lan): the host link, its address there, and whether the box holds it now. */
  lan?: { parent: string; address: string; network: string; joined: boolean };
  /** For Kubernetes distributions: where the API is and the kubeconfig context kiab writes. */
  kubernetes?: { apiServer: string | null; context: string; reachable: boolean };
  /** For Kubernetes distributions: each addon the cluster runs, what provides it and whether it works. */
  addons?: AddonStatus[];
}

function nodeIsUp(node: NodeStatus): boolean {
  return node.state === 'running' && (node.system === 'running' || node.system === 'degraded');
}

function clusterState(observed: ObservedCluster, nodes: NodeStatus[]): ClusterState {
  if (!observed.network || !observed.box || nodes.length === 0) return 'incomplete';
  const up = nodes.filter(nodeIsUp).length;
  if (up === nodes.length && observed.box.state === 'running') return 'running';
  if (up === 0 && observed.box.state !== 'running') return 'stopped';
  return 'degraded';
}

async function nodeStatus(
  provider: Provider,
  network: string,
  role: MachineRole,
  index: number,
  container: ContainerInfo,
  specHash: string | undefined,
  look: boolean,
): Promise<NodeStatus> {
  const running = container.state === 'running';
  const unknown = { system: 'unknown' as const, failedUnits: [] };
  const health = running ? (look ? await machineHealth(provider, container.name).catch(() => unknown) : unknown) : undefined;
  const startedAt = running && container.startedAt ? container.startedAt : undefined;
  return {
    name: container.name,
    role,
    index,
    state: container.state,
    system: health?.system ?? null,
    ip: container.addresses[network] ?? container.labels[LABEL.ip] ?? null,
    startedAt: startedAt?.toISOString() ?? null,
    uptimeSeconds: startedAt ? Math.max(0, Math.round((Date.now() - startedAt.getTime()) / 1000)) : null,
    failedUnits: health?.failedUnits ?? [],
    outdated: specHash !== undefined && container.labels[LABEL.specHash] !== specHash,
  };
}

function portForwards(
  listen: string,
  ports: HostPorts | undefined,
  added: readonly AddedPort[],
  boxIp: string | null,
  nodes: NodeStatus[],
  registry: boolean,
  health: readonly ServerHealth[],
): PortForward[] {
  if (!boxIp || !nodes.some((node) => node.role === 'server')) return [];
  const plan = loadBalancerPlan(
    nodes.map((node) => ({ name: node.name, role: node.role, ip: node.ip ?? '' })),
    {},
  );
  const host = (port: number | undefined): string | null => (port === undefined ? null : `${listen}:${port}`);
  const balanced = (name: string, port: number | string, machines: Backend[]): PortBackend[] =>
    machines.map((machine) => ({
      machine: machine.name,
      address: `${machine.ip}:${port}`,
      health: health.find((server) => server.backend === name && server.server === machine.name)?.health ?? 'unknown',
    }));
  const range = `${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`;
  // The same rule as the box's refresh: the first running machine of the web set takes UDP.
  const firstRunning = (machines: readonly Backend[]): Backend | undefined =>
    machines.find((machine) => nodes.find((node) => node.name === machine.name)?.state === 'running') ?? machines[0];
  const udp = firstRunning(plan.web);
  const forwards: PortForward[] = [
    { name: 'api', host: host(ports?.api), box: `${boxIp}:${BOX_PORT.api}`, via: 'load-balancer', backends: balanced('api', BOX_PORT.api, plan.servers) },
    { name: 'http', host: host(ports?.http), box: `${boxIp}:${BOX_PORT.http}`, via: 'load-balancer', backends: balanced('http', BOX_PORT.http, plan.web) },
    { name: 'https', host: host(ports?.https), box: `${boxIp}:${BOX_PORT.https}`, via: 'load-balancer', backends: balanced('https', BOX_PORT.https, plan.web) },
    { name: 'nodeports', host: null, box: `${boxIp}:${range}`, via: 'load-balancer', backends: balanced('nodeports', range, plan.web) },
    {
      name: 'nodeports-udp',
      host: null,
      box: `${boxIp}:${range}/udp`,
      via: 'forward',
      backends: udp ? [{ machine: udp.name, address: `${udp.ip}:${range}`, health: 'unchecked' }] : [],
    },
  ];
  if (registry) forwards.push({ name: 'registry', host: host(ports?.registry), box: `${boxIp}:${BOX_PORT.registry}`, via: 'box', backends: [] });
  const machines = nodes.map((node) => ({ name: node.name, ip: node.ip ?? '' }));
  for (const port of added) {
    const name = addedPortName(port) as PortForward['name'];
    const backends = addedPortBackends(port.to, plan, machines);
    const common = { name, host: `${port.listen}:${port.hostPort}`, box: `${boxIp}:${port.boxPort}${port.protocol === 'udp' ? '/udp' : ''}` };
    if (port.protocol === 'tcp') forwards.push({ ...common, via: 'load-balancer', backends: balanced(name, port.targetPort, backends) });
    else {
      const to = firstRunning(backends);
      forwards.push({ ...common, via: 'forward', backends: to ? [{ machine: to.name, address: `${to.ip}:${port.targetPort}`, health: 'unchecked' }] : [] });
    }
  }
  return forwards;
}

export async function statusOf(provider: Provider, observed: ObservedCluster): Promise<ClusterStatus> {
  const names = clusterNames(observed.name);
  const subnet = observedSubnet(observed);
  const specHash = observed.spec ? machineSpecHash(observed.spec) : undefined;
  const context = contextOf(provider, observed);
  // The box's view of its backends and the API's view of the nodes are asked beside the machines (neither
  // fails: an empty list, an unreachable API).
  const balancer = observed.box?.state === 'running' ? loadBalancerHealth(provider, names) : Promise.resolve([]);
  const machineStatuses = (look: boolean): Promise<NodeStatus[]> =>
    Promise.all(observed.machines.map((machine) => nodeStatus(provider, names.network, machine.role, machine.index, machine.container, specHash, look)));
  // Both look into the machines (systemd's state, the admin kubeconfig): not while a snapshot pauses them, when
  // the machines' systemd is unknown and Kubernetes unasked for the moment of the pause.
  const { nodes, view } = await lookUnlessPausing(
    observed.name,
    async () => {
      const viewing = context?.distribution.kubernetes ? kubernetesView(context) : undefined;
      const nodes = await machineStatuses(true);
      return { nodes, view: await viewing };
    },
    async () => ({ nodes: await machineStatuses(false), view: undefined }),
  );
  const boxIp = subnet ? boxAddress(subnet) : null;
  const registryEnabled = observed.spec?.registry.enabled ?? true;
  const createdAt = observed.network?.createdAt ?? observed.box?.createdAt ?? observed.machines[0]?.container.createdAt;
  if (view?.nodes !== undefined)
    for (const node of nodes) {
      const seen = view.nodes?.find((candidate) => candidate.name === node.name);
      node.kubernetes = seen ? { node: seen.name, ready: seen.ready, kubeletVersion: seen.kubeletVersion, pods: seen.pods } : null;
    }
  const addons = context && view ? await addonStatuses(context, view.kubeconfig) : undefined;
  const lan = observed.spec ? lanOf(observed.spec) : undefined;
  return {
    name: observed.name,
    state: clusterState(observed, nodes),
    address: boxIp,
    distribution: observed.spec?.distribution ?? null,
    kubernetesVersion: observed.spec?.kubernetesVersion ?? null,
    createdAt: createdAt?.toISOString() ?? null,
    box: { name: names.box, state: observed.box?.state ?? 'missing', ip: boxIp },
    registry: registryEnabled && observed.ports ? registryEndpoints(names.box, observed.ports.registry) : null,
    registryLogin: registryEnabled && (observed.spec?.registry.auth ?? false),
    nodes,
    ports: portForwards(
      observed.spec ? listenAddressOf(observed.spec.ports) : LOOPBACK,
      observed.ports,
      observed.added,
      boxIp,
      nodes,
      registryEnabled,
      await balancer,
    ),
    ...(lan
      ? { lan: { parent: lan.parent, address: lan.address, network: names.lanNetwork, joined: observed.box?.addresses[names.lanNetwork] === lan.address } }
      : {}),
    ...(view ? { kubernetes: view.kubernetes } : {}),
    ...(addons ? { addons } : {}),
  };
}

/**
 * Asks the API about the nodes: `nodes` is what it said, null when it could not be asked (each node's field
 * is then null rather than status failing), undefined before there is an admin kubeconfig.
 */
async function kubernetesView(
  context: LoadedCluster,
): Promise<{ kubernetes: NonNullable<ClusterStatus['kubernetes']>; kubeconfig: string | undefined; nodes: KubernetesNodeInfo[] | null | undefined }> {
  const apiServer = apiServerUrl(context.ports, boxAddress(context.subnet), 'localhost', listenAddressOf(context.spec.ports));
  const view = (reachable: boolean, kubeconfig: string | undefined, nodes: KubernetesNodeInfo[] | null | undefined) => ({
    kubernetes: { apiServer, context: context.names.kubeContext, reachable },
    kubeconfig,
    nodes,
  });
  try {
    const admin = await context.distribution.adminKubeconfig(distributionContext(context, context.machines));
    if (!admin) return view(false, undefined, undefined);
    const user = userKubeconfig(admin, context.names, apiServer);
    return view(true, user, await kubernetesNodes(user));
  } catch {
    return view(false, undefined, null);
  }
}

/** Status of one cluster, or undefined when the engine holds nothing of it. */
export async function findClusterStatus(provider: Provider, name: string): Promise<ClusterStatus | undefined> {
  const observed = await observeCluster(provider, name);
  return clusterExists(observed) ? statusOf(provider, observed) : undefined;
}

export async function clusterStatus(provider: Provider, name: string): Promise<ClusterStatus> {
  return statusOf(provider, await observeCluster(provider, name));
}

export async function allClusterStatuses(provider: Provider): Promise<ClusterStatus[]> {
  const names = await listClusterNames(provider);
  return Promise.all(names.map((name) => clusterStatus(provider, name)));
}

export function readyNodeCount(status: ClusterStatus): number {
  return status.nodes.filter(nodeIsUp).length;
}
