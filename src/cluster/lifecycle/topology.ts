import { createHash } from 'node:crypto';
import type { Distribution, MachineRef } from '../../distribution/index.js';
import { defaultBoxImage, defaultNodeImage } from '../../images/index.js';
import { LABEL, clusterLabels, encodeJsonLabel, type MachineRole } from '../../labels.js';
import { boxAddress, machineAddress, type Subnet } from '../../net/addresses.js';
import { ipv6Of } from '../../net/ipv6.js';
import { familiesOf } from '../../spec/networking.js';
import { BOX_PORT, listenAddressOf, PORT_NAMES, type HostPorts } from '../../net/ports.js';
import type { ContainerFile, ContainerSpec } from '../../provider/types.js';
import {
  containerdMirrorFiles,
  containerdMirrorHostsFiles,
  registryEndpoints,
  type RegistryCredentials,
  type RegistryEndpoints,
} from '../../registry/index.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { nodeOf, type NodeSpec } from '../../spec/shape.js';
import { CONTAINERD_CONFIG_PATH, patchedContainerdConfig } from '../../images/containerd-config.js';
import { kiabVersion } from '../../version.js';
import { compareMachines, type ClusterNames } from '../../names.js';
import type { ObservedCluster } from './observe.js';

export function nodeImageOf(spec: ClusterSpec): string {
  return spec.images.node ?? defaultNodeImage();
}

export function boxImageOf(spec: ClusterSpec): string {
  return spec.images.box ?? defaultBoxImage();
}

/**
 * The spec fields that shape a machine; machines made under another hash are reported as outdated. The
 * Kubernetes version is not one: `kiab upgrade` changes it in the machines, which stay what they were made.
 */
export function machineSpecHash(spec: ClusterSpec): string {
  const shaping = { image: nodeImageOf(spec), distribution: spec.distribution };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 16);
}

/** A machine's place in its cluster, as a key: `server-0`. */
export const slotKey = (slot: { role: MachineRole; index: number }): string => `${slot.role}-${slot.index}`;

/** Machines the cluster should have: the spec's counts plus any added later with `node add`; never fewer. */
export function desiredSlots(spec: ClusterSpec, observed: ObservedCluster): Array<{ role: MachineRole; index: number }> {
  const wanted = new Map<string, { role: MachineRole; index: number }>();
  const add = (role: MachineRole, index: number): void => void wanted.set(slotKey({ role, index }), { role, index });
  for (let index = 0; index < spec.servers; index += 1) add('server', index);
  for (let index = 0; index < spec.workers; index += 1) add('worker', index);
  for (const machine of observed.machines) add(machine.role, machine.index);
  return [...wanted.values()].sort(compareMachines);
}

export function desiredMachines(spec: ClusterSpec, observed: ObservedCluster, subnet: Subnet): MachineRef[] {
  return desiredSlots(spec, observed).map(({ role, index }) => ({ name: '', role, index, ip: machineAddress(subnet, role, index) }));
}

export function withNames(machines: MachineRef[], names: ClusterNames): MachineRef[] {
  return machines.map((machine) => ({ ...machine, name: names.machine(machine.role, machine.index) }));
}

export const REGISTRY_CONFIG_PATH = '/etc/kiab/registry.yml';

export function clusterRegistry(spec: ClusterSpec, names: ClusterNames, ports: HostPorts): RegistryEndpoints | undefined {
  return spec.registry.enabled ? registryEndpoints(names.box, ports.registry) : undefined;
}

/** How a container of the cluster joins its network: at its fixed IPv4 address, and at that address's IPv6 twin where the cluster has IPv6. */
export function clusterAttachment(spec: ClusterSpec, names: ClusterNames, ip: string): NonNullable<ContainerSpec['network']> {
  return { name: names.network, ip, ...(familiesOf(spec.networking).ipv6 ? { ip6: ipv6Of(ip) } : {}) };
}

export function boxContainerSpec(spec: ClusterSpec, names: ClusterNames, subnet: Subnet, ports: HostPorts): ContainerSpec {
  return {
    name: names.box,
    hostname: names.box,
    image: boxImageOf(spec),
    kind: 'router',
    labels: { ...clusterLabels(names.cluster, 'box', kiabVersion), [LABEL.ip]: boxAddress(subnet), [LABEL.ports]: encodeJsonLabel(ports) },
    network: clusterAttachment(spec, names, boxAddress(subnet)),
    volumes: spec.registry.enabled
      ? [{ name: names.registryVolume, path: '/var/lib/docker-registry', labels: machineVolumeLabels(names, names.box, 'registry') }]
      : [],
    // Loopback unless the user asks for another address: nothing of a cluster listens beyond this host otherwise.
    publish: PORT_NAMES.filter((name) => name !== 'registry' || spec.registry.enabled).map((name) => ({
      containerPort: BOX_PORT[name],
      protocol: 'tcp' as const,
      hostIp: listenAddressOf(spec.ports),
      hostPort: ports[name],
    })),
  };
}

export const CONTAINERD_VOLUME = { purpose: 'containerd', path: '/var/lib/containerd' } as const;

/** A volume says whose it is and what it holds: lookups go by these labels, never by name. */
export function machineVolumeLabels(names: ClusterNames, machine: string, purpose: string): Record<string, string> {
  return { ...volumeHelperLabels(names, machine), [LABEL.purpose]: purpose };
}

/** A helper that fills a machine's volumes is the cluster's, so that `kiab delete` finds one a crash left. */
export function volumeHelperLabels(names: ClusterNames, machine: string): Record<string, string> {
  return { ...clusterLabels(names.cluster, 'volume', kiabVersion), [LABEL.machine]: machine };
}

/**
 * A worker's CPU weight where servers run a control plane: a quarter of a server's (the engine's default).
 * Every machine boots at once after `up` or `reset`, and on a small host they contend for its CPUs: the
 * control plane then gets most of them, so the API answers sooner (about 0.4 s of a kubeadm reset here). An
 * idle server leaves its CPUs to the workers; other containers on the host keep the engine's default weight.
 */
export const WORKER_CPU_SHARES = 256;

export function machineContainerSpec(spec: ClusterSpec, names: ClusterNames, machine: MachineRef, distribution: Distribution, image: string): ContainerSpec {
  const volumes = [CONTAINERD_VOLUME, ...distribution.machineVolumes(machine.role)].map((volume) => ({
    name: names.volume(machine.name, volume.purpose),
    path: volume.path,
    labels: machineVolumeLabels(names, machine.name, volume.purpose),
  }));
  return {
    name: machine.name,
    hostname: machine.name,
    image,
    kind: 'machine',
    labels: {
      ...clusterLabels(names.cluster, machine.role, kiabVersion),
      [LABEL.index]: String(machine.index),
      [LABEL.ip]: machine.ip,
      [LABEL.specHash]: machineSpecHash(spec),
    },
    network: clusterAttachment(spec, names, machine.ip),
    volumes,
    ...shapedMachine(nodeOf(spec, machine.role, machine.index)),
    ...(distribution.kubernetes && machine.role === 'worker' ? { cpuShares: WORKER_CPU_SHARES } : {}),
  };
}

const PROPAGATION = { None: 'private', HostToContainer: 'host-to-container', Bidirectional: 'bidirectional' } as const;

/** A node's mounts and port mappings as the engine makes them: bound host folders, ports published straight to the machine. */
function shapedMachine(node: NodeSpec | undefined): Pick<ContainerSpec, 'binds' | 'publish'> {
  return {
    binds: (node?.mounts ?? []).map((mount) => ({
      hostPath: mount.hostPath,
      path: mount.machinePath,
      readOnly: mount.readOnly,
      propagation: PROPAGATION[mount.propagation],
    })),
    publish: (node?.portMappings ?? []).map((mapping) => ({
      containerPort: mapping.machinePort,
      protocol: mapping.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const),
      hostIp: mapping.listenAddress,
      hostPort: mapping.hostPort,
    })),
  };
}

/**
 * Files every machine gets before first boot (the distribution's own come after): the box registry's wiring,
 * the spec's mirrors, and containerd's configuration when the spec patches it.
 */
export function machineFiles(spec: ClusterSpec, registry: RegistryEndpoints | undefined, credentials?: RegistryCredentials): ContainerFile[] {
  return [
    ...(registry ? containerdMirrorFiles(registry, credentials) : []),
    ...containerdMirrorHostsFiles(spec.registries?.mirrors ?? {}),
    ...(spec.containerdConfigPatches?.length ? [{ path: CONTAINERD_CONFIG_PATH, content: patchedContainerdConfig(spec.containerdConfigPatches) }] : []),
  ];
}
