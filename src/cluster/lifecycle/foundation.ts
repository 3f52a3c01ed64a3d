import { KiabError } from '../../errors.js';
import type { MachineRef } from '../../distribution/index.js';
import { LABEL, clusterLabels, encodeJsonLabel } from '../../labels.js';
import { gatewayAddress, parseSubnet, pickFreeSubnet, type Subnet } from '../../net/addresses.js';
import { isPortFree, listenAddressOf, planHostPorts, type HostPorts } from '../../net/ports.js';
import type { Provider } from '../../provider/types.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { familiesOf, givenRanges } from '../../spec/networking.js';
import { ipv6NetworkOf } from '../../net/ipv6.js';
import { cidrsOverlap } from '../../net/cidr.js';
import { kiabVersion } from '../../version.js';
import { observedSubnet, type ClusterContext } from '../context.js';
import { boxFiles, refreshBox } from './box.js';
import { joinLan } from './lan.js';
import type { ClusterNames } from '../../names.js';
import { claimedHostPorts, type ObservedCluster } from './observe.js';
import { boxContainerSpec } from './topology.js';
import { snapshotSubnets } from '../snapshot/snapshot-store.js';

/* The parts of a cluster that are not machines: its host ports, its network and its box. */

export async function planPorts(provider: Provider, spec: ClusterSpec, observed: ObservedCluster): Promise<HostPorts> {
  if (observed.ports) return observed.ports;
  const listen = listenAddressOf(spec.ports);
  const plan = await planHostPorts(spec.ports, await claimedHostPorts(provider, spec.name), (port) => isPortFree(port, listen));
  if ('ports' in plan) return plan.ports;
  const { name, port, reason, by } = plan.conflict;
  const why = reason === 'in-use' ? `is already in use on ${listen}` : reason === 'claimed' ? `belongs to cluster ${by}` : 'is given twice';
  throw new KiabError(`ports.${name}: host port ${port} ${why}`, {
    hint: `choose another port for ports.${name} in kiab.yaml, or leave it out to get a free one`,
  });
}

/**
 * A free /24 for a new cluster network, clear of the pod and service ranges the spec names (they are the
 * cluster's too). A snapshot goes back to the /24 it was taken on when restored: so the cluster's own kept
 * snapshots' /24 is taken again where it is free, and other clusters' are left to them while another is free.
 */
async function pickNetworkSubnet(provider: Provider, spec: ClusterSpec, names: ClusterNames, refused: string[]): Promise<string | undefined> {
  const taken = [...(await provider.subnetsInUse()), ...givenRanges(spec.networking).map((range) => range.cidr), ...refused];
  const kept = await snapshotSubnets(provider);
  const own = [...(kept.get(names.cluster) ?? [])].find((cidr) => !taken.some((used) => cidrsOverlap(cidr, used)));
  const others = [...kept].filter(([cluster]) => cluster !== names.cluster).flatMap(([, subnets]) => [...subnets]);
  return own ?? pickFreeSubnet([...taken, ...others]) ?? pickFreeSubnet(taken);
}

/** Creates the cluster network, retrying with the next free /24 when a concurrent `up` took the same one. */
export async function ensureNetwork(provider: Provider, spec: ClusterSpec, names: ClusterNames, observed: ObservedCluster, ports: HostPorts): Promise<Subnet> {
  const known = observedSubnet(observed);
  if (observed.network && known) return known;
  const labels = { ...clusterLabels(names.cluster, 'network', kiabVersion), [LABEL.spec]: encodeJsonLabel(spec), [LABEL.ports]: encodeJsonLabel(ports) };
  // The engine may refuse a /24 it does not list (a pool another network is taking right now, or one it
  // still holds for a network gone): each refused one is left out of the next pick.
  const refused: string[] = [];
  for (let attempt = 0; ; attempt += 1) {
    const cidr = known?.cidr ?? spec.network.subnet ?? (await pickNetworkSubnet(provider, spec, names, refused));
    if (!cidr) throw new KiabError('no free /24 left in 172.28.0.0/14 for a cluster network', { hint: 'set network.subnet in kiab.yaml' });
    const subnet = parseSubnet(cidr);
    try {
      await provider.createNetwork({
        name: names.network,
        subnet: cidr,
        gateway: gatewayAddress(subnet),
        ...(familiesOf(spec.networking).ipv6 ? { ipv6Subnet: ipv6NetworkOf(cidr) } : {}),
        labels,
      });
      return subnet;
    } catch (error) {
      const message = (error as Error).message;
      const raced = /overlap|already exists/i.test(message);
      refused.push(cidr);
      if (!raced || attempt >= 5 || known || spec.network.subnet) {
        const ipv6 = familiesOf(spec.networking).ipv6 && /ipv6|v6/i.test(message);
        throw new KiabError(`cannot create network ${names.network} (${cidr}${ipv6 ? ` and ${ipv6NetworkOf(cidr)}` : ''}): ${message.split('\n')[0]}`, {
          hint: ipv6
            ? 'the engine refused the IPv6 range: `kiab doctor` says whether the host runs IPv6; or choose networking.ipFamily: ipv4'
            : spec.network.subnet
              ? 'choose another network.subnet'
              : undefined,
          cause: error,
        });
      }
    }
  }
}

/** Creates the box with its forwarding and registry config in place before first start, or starts it and re-applies forwarding. */
export async function ensureBox(context: ClusterContext, observed: ObservedCluster, machines: MachineRef[]): Promise<void> {
  const { provider, spec, names, subnet, ports } = context;
  if (!observed.box) await provider.createContainer(boxContainerSpec(spec, names, subnet, ports));
  await joinLan(provider, spec, names, observed);
  if (observed.box?.state === 'running') return refreshBox(context, machines, { allRunning: true });
  // Written before every start: a box left by a run killed between create and write gets its files too.
  await provider.writeFiles(names.box, boxFiles(spec, names, context.distribution, machines, observed.added, context.registryCredentials));
  await provider.startContainer(names.box);
}
