import type { MachineRole } from './labels.js';

/**
 * The one place engine object names are made. Every name starts from the cluster name, and snapshot
 * objects use "." (which a cluster name cannot contain) between their parts, so no two
 * clusters' objects can ever share a name.
 */
export interface ClusterNames {
  cluster: string;
  network: string;
  box: string;
  registryVolume: string;
  /** The macvlan network that puts the box on the user's LAN (cluster/lifecycle/lan.ts). */
  lanNetwork: string;
  /** The throwaway container that asks the LAN whether the box's address is taken, before the box takes it. */
  lanProbe: string;
  /** The door that publishes an added port (src/net/added-ports.ts). */
  door(hostPort: number, protocol: string): string;
  /** The kubeconfig context, cluster and user entries, and the name Kubernetes gives the cluster. */
  kubeContext: string;
  machine(role: MachineRole, index: number): string;
  /** The throwaway machine that preloads images for a role (cluster/lifecycle/preload.ts). */
  preloader(role: MachineRole): string;
  volume(machine: string, purpose: string): string;
  /** The empty volume that records the Kubernetes version a cluster runs since it changed (cluster/lifecycle/version-record.ts). */
  versionRecord(version: string): string;
  snapshotImage(snapshot: string, generation: string, role: MachineRole, index: number): string;
  snapshotVolume(snapshot: string, generation: string, role: MachineRole, index: number, purpose: string): string;
}

export function clusterNames(cluster: string): ClusterNames {
  const prefix = `kiab-${cluster}`;
  return {
    cluster,
    network: prefix,
    box: `${prefix}-box`,
    registryVolume: `${prefix}-registry`,
    // "." (which a cluster name cannot hold): cluster dev-lan's network is kiab-dev-lan.
    lanNetwork: `${prefix}.lan`,
    lanProbe: `${prefix}.lan-probe`,
    door: (hostPort, protocol) => `${prefix}-port-${hostPort}-${protocol}`,
    kubeContext: prefix,
    machine: (role, index) => `${prefix}-${role}-${index}`,
    preloader: (role) => `${prefix}-preload-${role}`,
    volume: (machine, purpose) => `${machine}-${purpose}`,
    versionRecord: (version) => `${prefix}-runs-${version.replace(/\+/g, '-')}`,
    snapshotImage: (snapshot, generation, role, index) => `kiab-snapshot/${cluster}:${snapshot}.${generation}.${role}-${index}`,
    snapshotVolume: (snapshot, generation, role, index, purpose) => `kiab-snapshot.${cluster}.${snapshot}.${generation}.${role}-${index}.${purpose}`,
  };
}

const MACHINE_NAME = /^kiab-([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(server|worker)-(\d+)$/;
const SHORT_MACHINE_NAME = /^(server|worker)-(\d+)$/;

export interface MachineName {
  cluster: string;
  role: MachineRole;
  index: number;
  name: string;
}

/**
 * Reads a node as users type it: `kiab-NAME-worker-0`, or `worker-0` within `cluster`. A full name of
 * another cluster than the one given is refused (undefined), not silently used.
 */
export function parseMachineName(node: string, cluster?: string): MachineName | undefined {
  const full = MACHINE_NAME.exec(node);
  if (full) {
    if (cluster !== undefined && full[1] !== cluster) return undefined;
    return { cluster: full[1]!, role: full[2] as MachineRole, index: Number(full[3]), name: node };
  }
  const short = SHORT_MACHINE_NAME.exec(node);
  if (!short || cluster === undefined) return undefined;
  const role = short[1] as MachineRole;
  const index = Number(short[2]);
  return { cluster, role, index, name: clusterNames(cluster).machine(role, index) };
}

/** Servers first, then workers, each by index: the order machines are created, joined and listed in. */
export function compareMachines(a: { role: MachineRole; index: number }, b: { role: MachineRole; index: number }): number {
  if (a.role !== b.role) return a.role === 'server' ? -1 : 1;
  return a.index - b.index;
}
