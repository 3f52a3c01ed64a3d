import { KiabError } from '../../errors.js';
import { hostRoutes, type HostRoute } from '../../host/routes.js';
import { LABEL } from '../../labels.js';
import { cidrsOverlap } from '../../net/cidr.js';
import type { NetworkInfo, Provider } from '../../provider/types.js';
import { givenRanges, type NamedRange } from '../../spec/networking.js';
import type { ClusterSpec } from '../../spec/schema.js';

/**
 * The first range the spec names that overlaps an engine network (kiab's, with the cluster that owns it, or
 * any other) or a route of the host, as a one-line refusal; undefined when none does. Networks come first:
 * a network's own route would otherwise be named instead of the network.
 */
export function rangeClash(
  ranges: readonly NamedRange[],
  networks: readonly NetworkInfo[],
  routes: readonly HostRoute[],
): { field: NamedRange['field']; message: string } | undefined {
  for (const { field, cidr } of ranges) {
    // An IPv6 range shares no address with an IPv4 one.
    const network = networks.find((candidate) => candidate.subnet?.includes('.') && cidrsOverlap(cidr, candidate.subnet));
    if (network) {
      const owner = network.labels[LABEL.cluster];
      return { field, message: `${field}: ${cidr} overlaps the engine network ${network.name} (${network.subnet}${owner ? `, cluster ${owner}` : ''})` };
    }
    const route = routes.find((candidate) => cidrsOverlap(cidr, candidate.cidr));
    if (route) return { field, message: `${field}: ${cidr} overlaps the host's route to ${route.cidr} (${route.link})` };
  }
  return undefined;
}

/**
 * Refuses, before anything is made, a pod or service range that the engine's networks or the host's routes
 * already take: pods would not reach those addresses. Exit 1, as for a host port in use: the file is right,
 * and what refuses it is this host's state now (another cluster deleted, the same file works). The host's
 * routes are read only where the engine runs on this host; a remote engine's host is not visible from here.
 */
export async function checkRanges(provider: Provider, spec: ClusterSpec): Promise<void> {
  const ranges = givenRanges(spec.networking);
  if (ranges.length === 0) return;
  const [networks, routes] = await Promise.all([provider.listNetworks({}), provider.localUid === undefined ? [] : hostRoutes()]);
  const clash = rangeClash(ranges, networks, routes);
  if (clash) throw new KiabError(clash.message, { hint: `choose another ${clash.field} in kiab.yaml` });
}
