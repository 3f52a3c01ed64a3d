import { KiabError, UsageError } from '../../errors.js';
import { LABEL } from '../../labels.js';
import { addedPortName } from '../../loadbalancer/index.js';
import { parseMachineName } from '../../names.js';
import { boxAddress, doorAddress } from '../../net/addresses.js';
import { describeTarget, nextBoxPort, type AddedPort, type PortMapping, type PortTarget } from '../../net/added-ports.js';
import { BOX_PORT, isPortFree, isUdpPortFree, listenAddressOf, PORT_NAMES } from '../../net/ports.js';
import type { Provider } from '../../provider/types.js';
import { run } from '../../provider/run.js';
import { runStep, type Reporter } from '../../reporter.js';
import { loadCluster, type LoadedCluster } from '../context.js';
import { withClusterLock } from '../lock.js';
import { refreshBox } from '../lifecycle/box.js';
import { claimedHostPorts } from '../lifecycle/observe.js';
import { doorContainerSpec, doorFiles } from './door.js';

export interface PortOptions {
  provider: Provider;
  reporter: Reporter;
  signal?: AbortSignal;
  cluster: string;
}

/** One port the box publishes on the host, as `port ls` shows it. */
export interface PublishedPortRow {
  /** `api`, `http`, `https`, `registry`, or `port-8080` (`port-5353-udp`) for an added one. */
  name: string;
  host: string;
  protocol: 'tcp' | 'udp';
  /** Where it goes: a port of the machines, or the box's own service. */
  target: string;
  /** `servers`, `workers`, a machine, or `box` (the registry). */
  to: string;
  box: string;
  added: boolean;
}

const BASE_TARGETS: Record<(typeof PORT_NAMES)[number], string> = { api: 'servers', http: 'workers', https: 'workers', registry: 'box' };

/** Every port the cluster publishes: those made with it, then those added, by host port. */
export function publishedPorts(cluster: LoadedCluster): PublishedPortRow[] {
  const box = boxAddress(cluster.subnet);
  const base = PORT_NAMES.filter((name) => name !== 'registry' || cluster.spec.registry.enabled).map((name): PublishedPortRow => ({
    name,
    host: `${listenAddressOf(cluster.spec.ports)}:${cluster.ports[name]}`,
    protocol: 'tcp',
    target: String(BOX_PORT[name]),
    to: BASE_TARGETS[name],
    box: `${box}:${BOX_PORT[name]}`,
    added: false,
  }));
  const added = cluster.observed.added.map((port): PublishedPortRow => ({
    name: addedPortName(port),
    host: `${port.listen}:${port.hostPort}`,
    protocol: port.protocol,
    target: String(port.targetPort),
    to: describeTarget(port.to),
    box: `${box}:${port.boxPort}`,
    added: true,
  }));
  return [...base, ...added];
}

async function onCluster<T>(options: PortOptions, work: (cluster: LoadedCluster) => Promise<T>): Promise<T> {
  await options.provider.ping();
  return withClusterLock(
    options.cluster,
    async () => work(await loadCluster(options.provider, options.cluster, options.signal ? { signal: options.signal } : {})),
    { engine: options.provider.endpoint, reporter: options.reporter, ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/** `--to NODE` as the box keeps it: the machine's full name, which must be one of the cluster's. */
function resolveTarget(cluster: LoadedCluster, to: PortTarget): PortTarget {
  if (typeof to === 'string') return to;
  const machine = parseMachineName(to.machine, cluster.names.cluster);
  if (!machine || !cluster.machines.some((candidate) => candidate.name === machine.name)) {
    throw new UsageError(
      `--to: "${to.machine}" is not workers, servers or a machine of cluster ${cluster.names.cluster}`,
      `see the machines with \`kiab status ${cluster.names.cluster}\``,
    );
  }
  return { machine: machine.name };
}

/** Refuses a host port this cluster publishes already, one another cluster holds, and one something on the host listens on. */
async function checkHostPort(cluster: LoadedCluster, mapping: PortMapping, listen: string): Promise<void> {
  const { hostPort, protocol } = mapping;
  const name = cluster.names.cluster;
  if (cluster.observed.added.some((port) => port.hostPort === hostPort && port.protocol === protocol)) {
    throw new UsageError(
      `HOSTPORT: ${hostPort}/${protocol} is already added to cluster ${name}`,
      `see \`kiab port ls ${name}\`, or remove it with \`kiab port rm ${name} ${hostPort}\``,
    );
  }
  const own = PORT_NAMES.find((port) => cluster.ports[port] === hostPort);
  if (own && protocol === 'tcp') throw new UsageError(`HOSTPORT: ${hostPort} is taken by the ${own} port of cluster ${name}`);
  const other = (await claimedHostPorts(cluster.provider, name)).get(hostPort);
  if (other !== undefined) throw new UsageError(`HOSTPORT: ${hostPort} is taken by cluster ${other}`);
  const free = protocol === 'tcp' ? await isPortFree(hostPort, listen) : await isUdpPortFree(hostPort, listen);
  if (!free) throw new UsageError(`HOSTPORT: ${hostPort}/${protocol} is already in use on ${listen}`, 'choose another host port');
}

/** The engine refused to publish: a port taken between the check and the start. */
function isPortTaken(error: unknown): boolean {
  return error instanceof Error && /port is already allocated|address already in use/i.test(error.message);
}

/**
 * `kiab port add`: a door publishes HOSTPORT and the box sends what arrives to TARGETPORT on the chosen
 * machines. The box is re-rendered and reloaded (established connections carry on), no machine is touched.
 * Everything that can refuse does so before the door is made; a door that cannot start is removed again.
 */
export async function addPort(options: PortOptions & { mapping: PortMapping; listen?: string; to: PortTarget }): Promise<PublishedPortRow> {
  const { provider, reporter, mapping } = options;
  return onCluster(options, async (cluster) => {
    const listen = options.listen ?? listenAddressOf(cluster.spec.ports);
    const to = resolveTarget(cluster, options.to);
    await checkHostPort(cluster, mapping, listen);
    if (!cluster.observed.box)
      throw new KiabError(`cluster ${cluster.names.cluster} has no box`, { hint: `run \`kiab up ${cluster.names.cluster}\` to make it again` });
    const boxPort = nextBoxPort(cluster.observed.added);
    const doors = await provider.listContainers({ [LABEL.managed]: '', [LABEL.cluster]: cluster.names.cluster, [LABEL.role]: 'port' });
    const ip = doorAddress(cluster.subnet, new Set(doors.flatMap((door) => door.labels[LABEL.ip] ?? [])));
    if (boxPort === undefined || ip === undefined) {
      throw new UsageError(
        `HOSTPORT: cluster ${cluster.names.cluster} has no room for another added port`,
        `remove one first: see \`kiab port ls ${cluster.names.cluster}\``,
      );
    }
    const port: AddedPort = { ...mapping, listen, to, boxPort };
    const door = cluster.names.door(port.hostPort, port.protocol);
    await runStep(reporter, `port ${listen}:${port.hostPort}/${port.protocol} to ${port.targetPort} on ${describeTarget(to)}`, async () => {
      await provider.createContainer(doorContainerSpec(cluster.names, cluster.observed.box!.image, ip, port));
      try {
        await provider.writeFiles(door, doorFiles(cluster.names, cluster.subnet, port));
        // The box listens first, so the door opens onto a box that knows the port.
        await refreshBox(cluster, cluster.machines);
        await provider.startContainer(door);
        // Its start applies the forward too; this returns once the rule is in place, whichever ran first.
        await run(provider, door, ['/usr/local/bin/kiab-box-forward'], { what: 'applying port forwarding' });
      } catch (error) {
        await provider.removeContainer(door).catch(() => undefined);
        await refreshBox(cluster, cluster.machines).catch(() => undefined);
        if (isPortTaken(error)) throw new UsageError(`HOSTPORT: ${port.hostPort}/${port.protocol} is already in use on ${listen}`, 'choose another host port');
        throw error;
      }
    });
    const added = { ...cluster, observed: { ...cluster.observed, added: [port] } };
    return publishedPorts(added).find((row) => row.added)!;
  });
}

/** `kiab port rm`: the door goes, then the box forgets the port. A protocol left out removes both. */
export async function removePort(options: PortOptions & { hostPort: number; protocol?: 'tcp' | 'udp' }): Promise<PublishedPortRow[]> {
  const { provider, reporter, hostPort, protocol } = options;
  return onCluster(options, async (cluster) => {
    const name = cluster.names.cluster;
    const gone = cluster.observed.added.filter((port) => port.hostPort === hostPort && (protocol === undefined || port.protocol === protocol));
    if (gone.length === 0) {
      throw new KiabError(`cluster ${name} has no added port ${hostPort}${protocol ? `/${protocol}` : ''}`, { hint: `see \`kiab port ls ${name}\`` });
    }
    const rows = publishedPorts({ ...cluster, observed: { ...cluster.observed, added: gone } }).filter((row) => row.added);
    await runStep(reporter, `remove port ${hostPort}`, async () => {
      for (const port of gone) await provider.removeContainer(cluster.names.door(port.hostPort, port.protocol));
      await refreshBox(cluster, cluster.machines);
    });
    return rows;
  });
}

/** `kiab port ls`. */
export async function listPorts(options: Omit<PortOptions, 'reporter'>): Promise<PublishedPortRow[]> {
  await options.provider.ping();
  return publishedPorts(await loadCluster(options.provider, options.cluster));
}
