import type { Distribution, DistributionContext, MachineRef } from '../distribution/index.js';
import { boxAddress, parseSubnet, type Subnet } from '../net/addresses.js';
import type { HostPorts } from '../net/ports.js';
import type { Provider } from '../provider/types.js';
import type { ClusterSpec } from '../spec/schema.js';
import type { ClusterNames } from './names.js';
import type { ObservedCluster } from './observe.js';
import { clusterRegistry } from './topology.js';
import { LABEL } from '../labels.js';

/** What every step of a command on one cluster shares. */
export interface ClusterContext {
  provider: Provider;
  spec: ClusterSpec;
  names: ClusterNames;
  subnet: Subnet;
  ports: HostPorts;
  distribution: Distribution;
  /** The image machines are created from: kiab's node image, or the distribution's derived one. */
  nodeImage: string;
  signal?: AbortSignal;
}

/** The /24 of a cluster whose network may be gone: from the network, else from any container's address label. */
export function observedSubnet(observed: ObservedCluster): Subnet | undefined {
  if (observed.network?.subnet) return parseSubnet(observed.network.subnet);
  const ip = observed.box?.labels[LABEL.ip] ?? observed.machines[0]?.container.labels[LABEL.ip];
  if (!ip) return undefined;
  return parseSubnet(`${ip.split('.').slice(0, 3).join('.')}.0/24`);
}

export function distributionContext(context: ClusterContext, machines: MachineRef[], progress: (detail: string) => void, deadline = Date.now() + 300_000): DistributionContext {
  return {
    provider: context.provider,
    spec: context.spec,
    machines,
    box: { name: context.names.box, hostname: context.names.box, ip: boxAddress(context.subnet) },
    registry: clusterRegistry(context.spec, context.names, context.ports),
    ...(context.signal ? { signal: context.signal } : {}),
    deadline,
    progress,
  };
}
