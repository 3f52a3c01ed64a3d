import { KiabError, UsageError } from '../../errors.js';
import { LABEL, clusterLabels } from '../../labels.js';
import type { ClusterNames } from '../../names.js';
import { cidrsOverlap } from '../../net/cidr.js';
import { parseLanAddress, type LanAddress } from '../../net/lan.js';
import { tryRun } from '../../provider/run.js';
import type { Provider } from '../../provider/types.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { kiabVersion } from '../../version.js';
import type { ObservedCluster } from './observe.js';
import { boxImageOf } from './topology.js';

/*
 * The box as a host on the user's LAN: a macvlan network on a link of the engine's host, which the box joins
 * at one address. Everything the box serves listens on all of its addresses, so the API, 80, 443, the
 * NodePorts and the registry answer there too. The host itself cannot reach its own macvlan members (the
 * kernel passes nothing between a link and its macvlan children), so the loopback ports stay for the host.
 */

/** The box's LAN address of a spec, or undefined when the cluster is not on a LAN. */
export function lanOf(spec: ClusterSpec): (LanAddress & { parent: string }) | undefined {
  const lan = spec.network.lan;
  return lan ? { ...parseLanAddress(lan.address, lan.gateway), parent: lan.parent } : undefined;
}

/** How long the probe listens for an answer: hosts answer ARP in milliseconds; a busy LAN in well under a second. */
const PROBE_SECONDS = 2;

/** Creates the macvlan network; a parent the engine's host lacks, or one another network holds, is refused by name. */
async function createLanNetwork(provider: Provider, names: ClusterNames, lan: LanAddress & { parent: string }): Promise<void> {
  try {
    await provider.createNetwork({
      name: names.lanNetwork,
      subnet: lan.cidr,
      gateway: lan.gateway,
      labels: clusterLabels(names.cluster, 'lan', kiabVersion),
      // The engine hands out no LAN address but the box's: each one it took would be a host of the LAN.
      macvlan: { parent: lan.parent, ipRange: `${lan.address}/32` },
    });
  } catch (error) {
    const message = (error as Error).message;
    // The engine reads a parent it cannot find as a VLAN to make ("eth0.10"), and says so for a name without a dot.
    if (/invalid subinterface vlan name|parent interface was not found|no such device|link not found/i.test(message))
      throw new UsageError(
        `--lan-parent: the engine's host has no network link "${lan.parent}"`,
        'see `ip link` on that host for the link that carries the LAN',
      );
    // The engine refuses a second macvlan network on one link, and a prefix another network has (which it may say first).
    if (/already using parent interface|overlap/i.test(message)) {
      const networks = await provider.listNetworks({});
      const onLink = networks.find((network) => network.parent === lan.parent);
      const holder = onLink ?? networks.find((network) => network.subnet !== undefined && cidrsOverlap(network.subnet, lan.cidr));
      const owner = holder?.labels[LABEL.cluster];
      const what = `${holder?.name ?? 'another network'}${owner ? ` (cluster ${owner})` : ''}`;
      const hint = owner ? `delete cluster ${owner} first` : `remove ${holder?.name ?? 'that network'} first (see \`docker network ls\`)`;
      if (onLink) throw new UsageError(`--lan-parent: ${lan.parent} already carries the macvlan network ${what}, and the engine allows one per link`, hint);
      throw new UsageError(`--lan-address: ${lan.cidr} overlaps the network ${what}`, hint);
    }
    throw new KiabError(`cannot create network ${names.lanNetwork} on ${lan.parent}: ${message.split('\n')[0]}`, { cause: error });
  }
}

/**
 * Asks the LAN whether a host already answers for the box's address (ARP duplicate address detection, from a
 * throwaway container of the box image at that address on the LAN network, which sends as 0.0.0.0). True when
 * one answered.
 */
async function addressAnswers(provider: Provider, spec: ClusterSpec, names: ClusterNames, lan: LanAddress): Promise<boolean> {
  // One left by an interrupted run would hold the address.
  await provider.removeContainer(names.lanProbe);
  await provider.createContainer({
    name: names.lanProbe,
    hostname: names.lanProbe,
    image: boxImageOf(spec),
    kind: 'router',
    labels: clusterLabels(names.cluster, 'probe', kiabVersion),
    network: { name: names.lanNetwork, ip: lan.address },
    volumes: [],
    publish: [],
    entrypoint: ['sleep', 'infinity'],
  });
  try {
    await provider.startContainer(names.lanProbe);
    // Its one link besides loopback is the LAN's.
    const result = await tryRun(provider, names.lanProbe, ['arping', '-D', '-q', '-c', '2', '-w', String(PROBE_SECONDS), '-I', 'eth0', lan.address]);
    if (result.exitCode === 0) return false;
    if (result.exitCode === 1) return true;
    throw new KiabError(`the ARP probe for ${lan.address} failed: ${(result.stderr || result.stdout).trim().split('\n')[0] ?? `exit ${result.exitCode}`}`);
  } finally {
    await provider.removeContainer(names.lanProbe);
  }
}

/**
 * Before anything else of the cluster is made: the LAN network exists and no host of the LAN answers for the
 * box's address. A refusal removes the network it made, so nothing is left. Nothing to do when the box already
 * holds the address, or when the cluster has no LAN.
 */
export async function ensureLan(provider: Provider, spec: ClusterSpec, names: ClusterNames, observed: ObservedCluster): Promise<void> {
  const lan = lanOf(spec);
  if (!lan || observed.box?.addresses[names.lanNetwork] !== undefined) return;
  if (!observed.lan) await createLanNetwork(provider, names, lan);
  let taken: boolean;
  try {
    taken = await addressAnswers(provider, spec, names, lan);
  } catch (error) {
    if (!observed.lan) await provider.removeNetwork(names.lanNetwork);
    throw error;
  }
  if (!taken) return;
  await provider.removeNetwork(names.lanNetwork);
  throw new UsageError(
    `--lan-address: ${lan.address} is already in use on the LAN of ${lan.parent} (a host answered an ARP probe for it)`,
    'choose a free address of that LAN',
  );
}

/**
 * The box joins the LAN at its address; the network is made (and the address probed) first when it is gone,
 * as after `kiab delete --keep-snapshots` and a restore.
 */
export async function joinLan(provider: Provider, spec: ClusterSpec, names: ClusterNames, observed: ObservedCluster): Promise<void> {
  const lan = lanOf(spec);
  if (!lan || observed.box?.addresses[names.lanNetwork] !== undefined) return;
  const current = await provider.listNetworks({ [LABEL.managed]: '', [LABEL.cluster]: names.cluster, [LABEL.role]: 'lan' });
  if (current.length === 0) await ensureLan(provider, spec, names, { ...observed, lan: undefined, box: undefined });
  await provider.connectNetwork(names.box, { name: names.lanNetwork, ip: lan.address });
}
