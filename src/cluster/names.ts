import type { MachineRole } from '../labels.js';

/** Every engine object of a cluster is named from the cluster name, so names alone never clash across clusters. */
export interface ClusterNames {
  cluster: string;
  network: string;
  box: string;
  registryVolume: string;
  kubeContext: string;
  machine(role: MachineRole, index: number): string;
  volume(machine: string, purpose: string): string;
}

export function clusterNames(cluster: string): ClusterNames {
  const prefix = `kiab-${cluster}`;
  return {
    cluster,
    network: prefix,
    box: `${prefix}-box`,
    registryVolume: `${prefix}-registry`,
    kubeContext: prefix,
    machine: (role, index) => `${prefix}-${role}-${index}`,
    volume: (machine, purpose) => `${machine}-${purpose}`,
  };
}

/** Splits `kiab-NAME-worker-3` into its parts; undefined for anything else. */
export function parseMachineName(name: string): { cluster: string; role: MachineRole; index: number } | undefined {
  const match = /^kiab-([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(server|worker)-(\d+)$/.exec(name);
  if (!match) return undefined;
  return { cluster: match[1]!, role: match[2] as MachineRole, index: Number(match[3]) };
}
