import { LABEL, type MachineRole } from '../labels.js';
import { boxAddress } from '../net/addresses.js';
import { BOX_PORT, LOOPBACK, NODE_PORT_RANGE, type HostPorts } from '../net/ports.js';
import type { ContainerInfo, ContainerState, Provider } from '../provider/types.js';
import { registryEndpoints, type RegistryEndpoints } from '../registry/index.js';
import type { DistributionName } from '../spec/schema.js';
import { contextOf, distributionContext, observedSubnet, type LoadedCluster } from './context.js';
import { clusterNames } from '../names.js';
import { apiServerUrl, kubernetesNodes, userKubeconfig } from './kubernetes.js';
import { addonStatuses, type AddonStatus } from './addons.js';
import { clusterExists, listClusterNames, observeCluster, type ObservedCluster } from './observe.js';
import { machineHealth, type SystemState } from './readiness.js';
import { forwardTargets, machineSpecHash } from './topology.js';

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

export interface PortForward {
  name: 'api' | 'http' | 'https' | 'registry' | 'nodeports';
  /** Where the host reaches it on loopback, when published. */
  host: string | null;
  /** Where it is on the box, reachable on the cluster network. */
  box: string;
  /** The machine the box forwards it to (the box itself for the registry). */
  target: string;
}

export interface ClusterStatus {
  name: string;
  state: ClusterState;
  address: string | null;
  distribution: DistributionName | null;
  createdAt: string | null;
  box: { name: string; state: ContainerState | 'missing'; ip: string | null };
  registry: RegistryEndpoints | null;
  nodes: NodeStatus[];
  ports: PortForward[];
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
): Promise<NodeStatus> {
  const running = container.state === 'running';
  const health = running ? await machineHealth(provider, container.name).catch(() => ({ system: 'unknown' as const, failedUnits: [] })) : undefined;
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

function portForwards(ports: HostPorts | undefined, boxIp: string | null, nodes: NodeStatus[], registry: boolean): PortForward[] {
  if (!boxIp) return [];
  const targets = forwardTargets(nodes.map((node) => ({ name: node.name, role: node.role, index: node.index, ip: node.ip ?? '' })));
  if (!targets) return [];
  const host = (port: number | undefined): string | null => (port === undefined ? null : `${LOOPBACK}:${port}`);
  const to = (machine: { name: string; ip: string }, port: number | string): string => `${machine.name} (${machine.ip}):${port}`;
  const forwards: PortForward[] = [
    { name: 'api', host: host(ports?.api), box: `${boxIp}:${BOX_PORT.api}`, target: to(targets.api, BOX_PORT.api) },
    { name: 'http', host: host(ports?.http), box: `${boxIp}:${BOX_PORT.http}`, target: to(targets.ingress, BOX_PORT.http) },
    { name: 'https', host: host(ports?.https), box: `${boxIp}:${BOX_PORT.https}`, target: to(targets.ingress, BOX_PORT.https) },
    {
      name: 'nodeports',
      host: null,
      box: `${boxIp}:${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`,
      target: to(targets.ingress, `${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`),
    },
  ];
  if (registry) forwards.push({ name: 'registry', host: host(ports?.registry), box: `${boxIp}:${BOX_PORT.registry}`, target: 'registry in the box' });
  return forwards;
}

export async function statusOf(provider: Provider, observed: ObservedCluster): Promise<ClusterStatus> {
  const names = clusterNames(observed.name);
  const subnet = observedSubnet(observed);
  const specHash = observed.spec ? machineSpecHash(observed.spec) : undefined;
  const nodes = await Promise.all(
    observed.machines.map((machine) => nodeStatus(provider, names.network, machine.role, machine.index, machine.container, specHash)),
  );
  const boxIp = subnet ? boxAddress(subnet) : null;
  const registryEnabled = observed.spec?.registry.enabled ?? true;
  const createdAt = observed.network?.createdAt ?? observed.box?.createdAt ?? observed.machines[0]?.container.createdAt;
  const context = contextOf(provider, observed);
  const view = context?.distribution.kubernetes ? await kubernetesView(context, nodes) : undefined;
  const addons = context && view ? await addonStatuses(context, view.kubeconfig) : undefined;
  return {
    name: observed.name,
    state: clusterState(observed, nodes),
    address: boxIp,
    distribution: observed.spec?.distribution ?? null,
    createdAt: createdAt?.toISOString() ?? null,
    box: { name: names.box, state: observed.box?.state ?? 'missing', ip: boxIp },
    registry: registryEnabled && observed.ports ? registryEndpoints(names.box, observed.ports.registry) : null,
    nodes,
    ports: portForwards(observed.ports, boxIp, nodes, registryEnabled),
    ...(view ? { kubernetes: view.kubernetes } : {}),
    ...(addons ? { addons } : {}),
  };
}

/** Asks the API about each node; an unreachable API leaves the fields null rather than failing status. */
async function kubernetesView(
  context: LoadedCluster,
  nodes: NodeStatus[],
): Promise<{ kubernetes: NonNullable<ClusterStatus['kubernetes']>; kubeconfig: string | undefined }> {
  const apiServer = apiServerUrl(context.ports, boxAddress(context.subnet), 'localhost');
  let reachable = false;
  let kubeconfig: string | undefined;
  try {
    const admin = await context.distribution.adminKubeconfig(distributionContext(context, context.machines));
    if (admin) {
      const user = userKubeconfig(admin, context.names, apiServer);
      const info = await kubernetesNodes(user);
      reachable = true;
      kubeconfig = user;
      for (const node of nodes) {
        const seen = info.find((candidate) => candidate.name === node.name);
        node.kubernetes = seen ? { node: seen.name, ready: seen.ready, kubeletVersion: seen.kubeletVersion, pods: seen.pods } : null;
      }
    }
  } catch {
    for (const node of nodes) node.kubernetes = null;
  }
  return { kubernetes: { apiServer, context: context.names.kubeContext, reachable }, kubeconfig };
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
