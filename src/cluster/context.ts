import { distributionFor, type Distribution, type DistributionContext, type MachineRef } from '../distribution/index.js';
import { KiabError } from '../errors.js';
import { LABEL } from '../labels.js';
import { clusterNames, type ClusterNames } from '../names.js';
import { boxAddress, machineAddress, parseSubnet, subnetOfAddress, type Subnet } from '../net/addresses.js';
import { exposedAddresses, listenAddressOf, type HostPorts } from '../net/ports.js';
import type { Provider } from '../provider/types.js';
import type { Reporter, StepProgress } from '../reporter.js';
import { parseDuration } from '../spec/duration.js';
import type { ClusterSpec } from '../spec/schema.js';
import type { RegistryCredentials } from '../registry/index.js';
import { clusterExists, observeCluster, type ObservedCluster } from './lifecycle/observe.js';
import { boxImageOf, clusterRegistry, nodeImageOf } from './lifecycle/topology.js';
import { lanOf } from './lifecycle/lan.js';

/** What every step of a command on one cluster shares. */
export interface ClusterContext {
  provider: Provider;
  spec: ClusterSpec;
  names: ClusterNames;
  subnet: Subnet;
  ports: HostPorts;
  distribution: Distribution;
  /** kiab's images as the spec names them; the image machines run may be the distribution's derived one. */
  images: { node: string; box: string };
  /** When the waits of this command give up (epoch ms), from the spec's `wait`. */
  deadline: number;
  signal?: AbortSignal;
  /** The registry's login, where a command writes machines' files (registry.auth; see lifecycle/registry-auth.ts). */
  registryCredentials?: RegistryCredentials;
}

/** An existing cluster, as every command on it starts: its context and what the engine holds of it. */
export interface LoadedCluster extends ClusterContext {
  observed: ObservedCluster;
  /** Its machines as distributions see them, servers first. */
  machines: MachineRef[];
}

export function clusterContext(provider: Provider, spec: ClusterSpec, subnet: Subnet, ports: HostPorts, signal?: AbortSignal): ClusterContext {
  return {
    provider,
    spec,
    names: clusterNames(spec.name),
    subnet,
    ports,
    distribution: distributionFor(spec.distribution),
    images: { node: nodeImageOf(spec), box: boxImageOf(spec) },
    deadline: Date.now() + (parseDuration(spec.wait) ?? 300_000),
    ...(signal ? { signal } : {}),
  };
}

/** The /24 of a cluster whose network may be gone: from the network, else from any container's address label. */
export function observedSubnet(observed: ObservedCluster): Subnet | undefined {
  if (observed.network?.subnet) return parseSubnet(observed.network.subnet);
  const ip = observed.box?.labels[LABEL.ip] ?? observed.machines[0]?.container.labels[LABEL.ip];
  if (!ip) return undefined;
  return parseSubnet(subnetOfAddress(ip));
}

function machineRefs(observed: ObservedCluster, subnet: Subnet): MachineRef[] {
  return observed.machines.map((machine) => ({
    name: machine.container.name,
    role: machine.role,
    index: machine.index,
    ip: machineAddress(subnet, machine.role, machine.index),
  }));
}

/** The context of what the engine holds, or undefined when too little is left to know the cluster's shape. */
export function contextOf(provider: Provider, observed: ObservedCluster, signal?: AbortSignal): LoadedCluster | undefined {
  const subnet = observedSubnet(observed);
  if (!observed.spec || !observed.ports || !subnet) return undefined;
  return { ...clusterContext(provider, observed.spec, subnet, observed.ports, signal), observed, machines: machineRefs(observed, subnet) };
}

/**
 * The one way a command finds an existing cluster: read its labels and refuse, with the way out, when it
 * does not exist or is too incomplete to work on.
 */
export async function loadCluster(provider: Provider, name: string, options: { signal?: AbortSignal } = {}): Promise<LoadedCluster> {
  const observed = await observeCluster(provider, name);
  if (!clusterExists(observed)) throw new KiabError(`cluster ${name} does not exist`, { hint: `create it with \`kiab up ${name}\`, or see \`kiab list\`` });
  const loaded = contextOf(provider, observed, options.signal);
  if (!loaded || !observed.network)
    throw new KiabError(`cluster ${name} is incomplete`, { hint: `run \`kiab up ${name}\` to finish it, or \`kiab delete ${name}\`` });
  return loaded;
}

/**
 * What a distribution works with. `step`, given where a command's step runs a distribution hook, routes its
 * progress to that step, its warnings to the user, and its word that the control plane is up to the caller
 * (who refreshes the box, see lifecycle/box.ts); elsewhere each goes nowhere.
 */
export function distributionContext(
  context: ClusterContext,
  machines: MachineRef[],
  step?: { progress: StepProgress; reporter: Reporter; controlPlaneUp: () => Promise<void> },
): DistributionContext {
  const lan = lanOf(context.spec);
  return {
    provider: context.provider,
    spec: context.spec,
    names: context.names,
    machines,
    box: { name: context.names.box, hostname: context.names.box, ip: boxAddress(context.subnet) },
    // The host's addresses where its ports are published beyond loopback, and the box's own on the LAN.
    externalAddresses: [...exposedAddresses(listenAddressOf(context.spec.ports)), ...(lan ? [lan.address] : [])],
    registry: clusterRegistry(context.spec, context.names, context.ports),
    ...(context.registryCredentials ? { registryCredentials: context.registryCredentials } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
    deadline: context.deadline,
    progress: (detail) => step?.progress.update(detail),
    warn: (message) => step?.reporter.warn(message),
    controlPlaneUp: async () => step?.controlPlaneUp(),
  };
}
