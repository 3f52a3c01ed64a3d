import { stat } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { isLoopbackAddress, isPortFree, isUdpPortFree, PORT_NAMES, type HostPorts } from '../../net/ports.js';
import type { Provider } from '../../provider/types.js';
import type { ClusterSpec } from '../../spec/schema.js';
import type { MachineRole } from '../../labels.js';
import { claimedHostPorts } from './observe.js';

/** A node entry with its place in `nodes` (for messages) and the machine slot it shapes. */
function shapedSlots(spec: ClusterSpec, slots: Array<{ role: MachineRole; index: number }>): Array<{ at: number; node: ClusterSpec['nodes'][number] }> {
  const seen = { server: 0, worker: 0 };
  const wanted = new Set(slots.map((slot) => `${slot.role}-${slot.index}`));
  return spec.nodes.flatMap((node, at) => (wanted.has(`${node.role}-${seen[node.role]++}`) ? [{ at, node }] : []));
}

/**
 * What the machines about to be made ask of the host, checked before anything is made: every mount's host
 * path exists, and every mapped host port is free (not given twice, not another cluster's, not in use).
 * Returns what the mappings expose beyond this host, for the user to be told.
 */
export async function checkMachineShapes(
  provider: Provider,
  spec: ClusterSpec,
  toMake: Array<{ role: MachineRole; index: number }>,
  ports: HostPorts,
): Promise<string[]> {
  const shaped = shapedSlots(spec, toMake);
  for (const { at, node } of shaped) {
    for (const [index, mount] of node.mounts.entries()) {
      const found = await stat(mount.hostPath).catch(() => undefined);
      if (!found)
        throw new UsageError(`nodes.${at}.mounts.${index}.hostPath: ${mount.hostPath} does not exist on this host`, 'create it first, or correct the path');
    }
  }
  const mappings = shaped.flatMap(({ at, node }) =>
    node.portMappings.map((mapping, index) => ({ mapping, field: `nodes.${at}.portMappings.${index}.hostPort` })),
  );
  if (mappings.length === 0) return [];
  const claimed = await claimedHostPorts(provider, spec.name);
  const given = new Set<string>();
  for (const { mapping, field } of mappings) {
    const { hostPort, protocol, listenAddress } = mapping;
    const key = `${hostPort}/${protocol}`;
    if (given.has(key)) throw new UsageError(`${field}: host port ${key} is mapped twice`);
    given.add(key);
    const own = PORT_NAMES.find((name) => ports[name] === hostPort);
    if (own && protocol === 'TCP') throw new UsageError(`${field}: host port ${hostPort} is the cluster's ${own} port`, 'choose another host port');
    const other = claimed.get(hostPort);
    if (other !== undefined) throw new UsageError(`${field}: host port ${hostPort} is taken by cluster ${other}`, 'choose another host port');
    const free = protocol === 'TCP' ? await isPortFree(hostPort, listenAddress) : await isUdpPortFree(hostPort, listenAddress);
    if (!free) throw new UsageError(`${field}: host port ${key} is already in use on ${listenAddress}`, 'choose another host port');
  }
  // Beyond loopback only when asked, and then said: what other hosts can reach.
  return mappings
    .filter(({ mapping }) => !isLoopbackAddress(mapping.listenAddress))
    .map(({ mapping, field }) => `${field}: host port ${mapping.hostPort}/${mapping.protocol} on ${mapping.listenAddress} is reachable from other hosts`);
}
