import { distributionFor } from '../../distribution/index.js';
import { UsageError } from '../../errors.js';
import { PORT_NAMES, type HostPorts } from '../../net/ports.js';
import type { ClusterSpec } from '../../spec/schema.js';
import type { ObservedCluster } from './observe.js';
import { wantedAddons } from '../kubernetes/addons.js';
import { nodeOf } from '../../spec/shape.js';
import { slotKey } from './topology.js';

/** Fields an existing cluster keeps from its creation: asking for another value is refused, not ignored. */
const FIXED_FIELDS: Array<{ path: string; flag: string; read: (spec: ClusterSpec, ports?: HostPorts) => unknown }> = [
  { path: 'distribution', flag: '--k8s', read: (spec) => spec.distribution },
  { path: 'kubernetesVersion', flag: '--k8s-version', read: (spec) => spec.kubernetesVersion },
  // Compared with the ports the cluster holds, which include those it picked itself.
  ...PORT_NAMES.map((port) => ({ path: `ports.${port}`, flag: `ports.${port}`, read: (spec: ClusterSpec, ports?: HostPorts) => (ports ?? spec.ports)[port] })),
  { path: 'ports.address', flag: '--listen-address', read: (spec) => spec.ports.address },
  { path: 'network.subnet', flag: 'network.subnet', read: (spec) => spec.network.subnet },
  // The pod network and the Services' addresses are laid out when the cluster is made.
  { path: 'networking.podSubnet', flag: 'networking.podSubnet', read: (spec) => spec.networking.podSubnet },
  { path: 'networking.serviceSubnet', flag: 'networking.serviceSubnet', read: (spec) => spec.networking.serviceSubnet },
  { path: 'networking.cni', flag: 'networking.cni', read: (spec) => spec.networking.cni },
  { path: 'networking.ipFamily', flag: 'networking.ipFamily', read: (spec) => spec.networking.ipFamily },
  { path: 'network.lan.parent', flag: '--lan-parent', read: (spec) => spec.network.lan?.parent },
  { path: 'network.lan.address', flag: '--lan-address', read: (spec) => spec.network.lan?.address },
  { path: 'network.lan.gateway', flag: 'network.lan.gateway', read: (spec) => spec.network.lan?.gateway },
  { path: 'registry.enabled', flag: 'registry.enabled', read: (spec) => spec.registry.enabled },
  { path: 'registry.auth', flag: 'registry.auth', read: (spec) => spec.registry.auth },
  { path: 'images.node', flag: 'images.node', read: (spec) => spec.images.node },
  { path: 'images.box', flag: 'images.box', read: (spec) => spec.images.box },
  // What runs in the cluster is not reworked by `up`: no addon is removed, none added later.
  { path: 'addons', flag: '--addons', read: (spec) => wantedAddons(spec, distributionFor(spec.distribution)).join(',') || 'none' },
  // What the Kubernetes components and the container runtime were set up with.
  ...(
    ['featureGates', 'runtimeConfig', 'kubeadmConfigPatches', 'kubeadmConfigPatchesJSON6902', 'containerdConfigPatches', 'registries', 'apiServer'] as const
  ).map((path) => ({ path, flag: path, read: (spec: ClusterSpec) => (spec[path] === undefined ? undefined : JSON.stringify(spec[path])) })),
];

/** Parts of a node entry that its machine is made with: changing one means making the machine again. */
const MACHINE_FIELDS = ['mounts', 'portMappings', 'kubeadmConfigPatches', 'kubernetesVersion'] as const;

/**
 * The nodes an existing cluster goes on with: the requested ones when the user gave them (labels and taints
 * then change on the live nodes), refused where a machine that exists would have to be made again.
 */
function effectiveNodes(requested: ClusterSpec, stored: ClusterSpec, given: boolean, observed: ObservedCluster): ClusterSpec['nodes'] {
  if (!given) return stored.nodes;
  for (const machine of observed.machines) {
    const before = nodeOf(stored, machine.role, machine.index);
    const after = nodeOf(requested, machine.role, machine.index);
    for (const field of MACHINE_FIELDS) {
      if (JSON.stringify(before?.[field] ?? []) === JSON.stringify(after?.[field] ?? [])) continue;
      const at = requested.nodes.indexOf(after!);
      throw new UsageError(
        `nodes${at >= 0 ? `.${at}` : ''}.${field}: ${machine.container.name} (${slotKey(machine)}) was made with other ${field}, and up cannot change them on a running machine`,
        `make it again: \`kiab node rm ${machine.container.name}\`, then \`kiab up\` with this configuration`,
      );
    }
  }
  return requested.nodes;
}

/**
 * The spec with the exact version its distribution runs (a minor or nothing resolved to a release), so that
 * what a cluster is made with, and compared with later, is one release; an unknown version is refused here,
 * before anything is made.
 */
export function withResolvedVersion(spec: ClusterSpec): ClusterSpec {
  const distribution = distributionFor(spec.distribution);
  const version = distribution.resolveVersion(spec.kubernetesVersion);
  const { kubernetesVersion: _asked, ...rest } = spec;
  const resolveNode = distribution.resolveNodeVersion;
  // A node's own version, where the distribution takes one; elsewhere its preflight refuses the field.
  const nodes = resolveNode
    ? spec.nodes.map((node, at) =>
        node.kubernetesVersion === undefined ? node : { ...node, kubernetesVersion: resolveNode(node.kubernetesVersion, `nodes.${at}.kubernetesVersion`) },
      )
    : spec.nodes;
  return version === undefined ? { ...rest, nodes } : { ...rest, nodes, kubernetesVersion: version };
}

/**
 * An existing cluster keeps what it was made with (network, ports, images, distribution); `up` only adds
 * machines the spec asks for beyond what exists, and never removes any. A value the user set that differs
 * from what the cluster was made with is refused, saying what differs.
 */
export function effectiveSpec(requested: ClusterSpec, given: string[], observed: ObservedCluster): ClusterSpec {
  const stored = observed.spec;
  if (!stored) return requested;
  for (const field of FIXED_FIELDS) {
    const asked = field.read(requested);
    const made = field.read(stored, observed.ports);
    if (!given.some((path) => path === field.path || path.startsWith(`${field.path}.`)) || asked === made) continue;
    throw new UsageError(
      `${field.flag}: cluster ${stored.name} was made with ${String(made ?? 'the default')}, and up cannot change it to ${String(asked)}`,
      `leave ${field.flag} out to use the cluster as it is, or \`kiab delete ${stored.name}\` first`,
    );
  }
  return {
    ...stored,
    servers: Math.max(stored.servers, requested.servers),
    workers: Math.max(stored.workers, requested.workers),
    wait: requested.wait,
    nodes: effectiveNodes(requested, stored, given.includes('nodes'), observed),
  };
}
