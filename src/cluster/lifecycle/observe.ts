import { LABEL, decodeIndex, decodeJsonLabel, type MachineRole } from '../../labels.js';
import { compareMachines } from '../../names.js';
import { compareAddedPorts, parseAddedPort, type AddedPort } from '../../net/added-ports.js';
import type { HostPorts } from '../../net/ports.js';
import type { ContainerInfo, NetworkInfo, Provider, VolumeInfo } from '../../provider/types.js';
import { clusterSpecSchema, type ClusterSpec } from '../../spec/schema.js';
import { isVersionRecord, withRecordedVersion } from './version-record.js';

export interface ObservedMachine {
  role: MachineRole;
  index: number;
  container: ContainerInfo;
}

/** A cluster as the engine holds it, read from labels alone. */
export interface ObservedCluster {
  name: string;
  network: NetworkInfo | undefined;
  /** The macvlan network that puts the box on the LAN, when the cluster has one (cluster/lifecycle/lan.ts). */
  lan: NetworkInfo | undefined;
  spec: ClusterSpec | undefined;
  ports: HostPorts | undefined;
  box: ContainerInfo | undefined;
  machines: ObservedMachine[];
  /** Ports added after `up`, each from its door's labels (none with `machinesOnly`). */
  added: AddedPort[];
  volumes: VolumeInfo[];
}

const managed = { [LABEL.managed]: '' };

function parsePorts(raw: unknown): HostPorts {
  const value = raw as Partial<HostPorts>;
  for (const key of ['api', 'http', 'https', 'registry'] as const) if (typeof value[key] !== 'number') throw new Error('bad ports label');
  return value as HostPorts;
}

export function readSpecLabel(labels: Record<string, string> | undefined): ClusterSpec | undefined {
  return decodeJsonLabel(labels, LABEL.spec, (raw) => clusterSpecSchema.parse(raw));
}

function readAddedPortLabel(labels: Record<string, string> | undefined): AddedPort | undefined {
  return decodeJsonLabel(labels, LABEL.port, parseAddedPort);
}

/** The added ports of the doors among `containers`, by host port. */
function addedPortsOf(containers: readonly ContainerInfo[]): AddedPort[] {
  return containers
    .filter((container) => container.labels[LABEL.role] === 'port')
    .flatMap((container) => readAddedPortLabel(container.labels) ?? [])
    .sort(compareAddedPorts);
}

/** A cluster's added ports, read from its doors. */
export async function readAddedPorts(provider: Provider, cluster: string): Promise<AddedPort[]> {
  return addedPortsOf(await provider.listContainers({ ...managed, [LABEL.cluster]: cluster, [LABEL.role]: 'port' }));
}

export function readPortsLabel(labels: Record<string, string> | undefined): HostPorts | undefined {
  return decodeJsonLabel(labels, LABEL.ports, parsePorts);
}

/**
 * Everything of a cluster the engine holds. With `machinesOnly` the box is left out (`box` is undefined): the
 * engine answers no look at a container it is starting until it has started, and `up` starts the box beside
 * steps that need only the machines.
 */
export async function observeCluster(provider: Provider, name: string, options: { machinesOnly?: boolean } = {}): Promise<ObservedCluster> {
  const selector = { ...managed, [LABEL.cluster]: name };
  const [networks, containers, volumes] = await Promise.all([
    provider.listNetworks(selector),
    // Machines are the containers with an index.
    provider.listContainers(options.machinesOnly ? { ...selector, [LABEL.index]: '' } : selector),
    provider.listVolumes(selector),
  ]);
  const network = networks.find((candidate) => candidate.labels[LABEL.role] !== 'lan');
  const lan = networks.find((candidate) => candidate.labels[LABEL.role] === 'lan');
  const box = containers.find((container) => container.labels[LABEL.role] === 'box');
  const machines: ObservedMachine[] = [];
  for (const container of containers) {
    const role = container.labels[LABEL.role];
    const index = decodeIndex(container.labels);
    if ((role === 'server' || role === 'worker') && index !== undefined) machines.push({ role, index, container });
  }
  machines.sort(compareMachines);
  return {
    name,
    network,
    lan,
    spec: withRecordedVersion(readSpecLabel(network?.labels), volumes),
    ports: readPortsLabel(network?.labels) ?? readPortsLabel(box?.labels),
    box,
    machines,
    added: addedPortsOf(containers),
    // Snapshot volumes belong to snapshots, not to the running cluster; a version record is no machine's.
    volumes: volumes.filter((volume) => !volume.labels[LABEL.snapshot] && !isVersionRecord(volume)),
  };
}

/** A machine's volumes by what they hold, found by their labels. */
export function machineVolumes(observed: ObservedCluster, machine: string): Array<{ name: string; purpose: string }> {
  return observed.volumes
    .filter((volume) => volume.labels[LABEL.machine] === machine && volume.labels[LABEL.purpose])
    .map((volume) => ({ name: volume.name, purpose: volume.labels[LABEL.purpose]! }));
}

export function clusterExists(observed: ObservedCluster): boolean {
  return observed.network !== undefined || observed.box !== undefined || observed.machines.length > 0 || observed.volumes.length > 0;
}

/** Names of every cluster with at least one labelled object, including half-made ones. */
export async function listClusterNames(provider: Provider): Promise<string[]> {
  const [networks, containers, volumes] = await Promise.all([provider.listNetworks(managed), provider.listContainers(managed), provider.listVolumes(managed)]);
  const names = new Set<string>();
  for (const object of [...networks, ...containers, ...volumes.filter((volume) => !volume.labels[LABEL.snapshot])]) {
    const name = object.labels[LABEL.cluster];
    if (name) names.add(name);
  }
  return [...names].sort();
}

/**
 * Host ports held by every kiab cluster, running or stopped, so a new cluster never takes one: those made
 * with it and those added to it since.
 */
export async function claimedHostPorts(provider: Provider, except?: string): Promise<Map<number, string>> {
  const [networks, doors] = await Promise.all([provider.listNetworks(managed), provider.listContainers({ ...managed, [LABEL.role]: 'port' })]);
  const claimed = new Map<number, string>();
  for (const network of networks) {
    const cluster = network.labels[LABEL.cluster];
    if (!cluster || cluster === except) continue;
    const ports = readPortsLabel(network.labels);
    if (ports) for (const port of Object.values(ports)) claimed.set(port, cluster);
  }
  for (const door of doors) {
    const cluster = door.labels[LABEL.cluster];
    const port = readAddedPortLabel(door.labels);
    if (cluster && cluster !== except && port) claimed.set(port.hostPort, cluster);
  }
  return claimed;
}

export interface MachineListing {
  cluster: string;
  name: string;
  role: MachineRole;
  index: number;
}

/** Every machine of kiab's (or of one cluster), by labels alone: cheap enough for shell completion. */
export async function listMachines(provider: Provider, cluster?: string): Promise<MachineListing[]> {
  const containers = await provider.listContainers(cluster === undefined ? managed : { ...managed, [LABEL.cluster]: cluster });
  const machines: MachineListing[] = [];
  for (const container of containers) {
    const role = container.labels[LABEL.role];
    const index = decodeIndex(container.labels);
    const owner = container.labels[LABEL.cluster];
    if ((role === 'server' || role === 'worker') && index !== undefined && owner) machines.push({ cluster: owner, name: container.name, role, index });
  }
  return machines.sort((a, b) => a.cluster.localeCompare(b.cluster) || compareMachines(a, b));
}
