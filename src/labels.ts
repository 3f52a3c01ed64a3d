/**
 * Labels are kiab's only state: every network, container, volume and image it makes carries them,
 * so listing, status, convergence and deletion read the engine and nothing else.
 */
export const LABEL = {
  /** Marks an object as kiab's; value is the kiab version that made it. */
  managed: 'dev.kiab.version',
  cluster: 'dev.kiab.cluster',
  role: 'dev.kiab.role',
  index: 'dev.kiab.index',
  /** Hash of the spec fields that shape a machine; a differing hash means the machine is outdated. */
  specHash: 'dev.kiab.spec-hash',
  /** The cluster spec as JSON, on the network (the cluster's root record). */
  spec: 'dev.kiab.spec',
  /** The published host ports as JSON, on the network and the box. */
  ports: 'dev.kiab.ports',
  /** On a door: the added port it publishes, as JSON (src/net/added-ports.ts). */
  port: 'dev.kiab.port',
  /** The fixed address given at creation. */
  ip: 'dev.kiab.ip',
  /** On snapshot images and volumes: the snapshot's name. */
  snapshot: 'dev.kiab.snapshot',
  /** On snapshot images: the volume purposes captured with the machine, comma-separated. */
  snapshotVolumes: 'dev.kiab.snapshot-volumes',
  /** On volumes and snapshot objects: the machine they belong to (its full name). */
  machine: 'dev.kiab.machine',
  /** On volumes: what the volume holds for its machine (containerd, kubelet, registry...). */
  purpose: 'dev.kiab.purpose',
  /** On snapshot objects: one capture of a snapshot; a new capture replaces the old only once complete. */
  snapshotGeneration: 'dev.kiab.snapshot-generation',
  /** On snapshot images: how many machines the capture holds, to tell a complete capture from a cut one. */
  snapshotMachines: 'dev.kiab.snapshot-machines',
  /** On a cluster's version record: the Kubernetes version it runs since an upgrade or a restore changed it. */
  kubernetesVersion: 'dev.kiab.k8s-version',
  /** On a cluster's version record: "true" when every machine runs its version, node entries' own versions included (after an upgrade). */
  nodesAtVersion: 'dev.kiab.nodes-at-version',
  /** On a cluster's version record: when it was written (epoch ms), so the newest of two wins. */
  recordedAt: 'dev.kiab.recorded-at',
  /** The recipe hash an image was built from. */
  recipe: 'dev.kiab.recipe',
  /** On a preloaded node image: the container images its machines start with, space-separated. */
  preloaded: 'dev.kiab.preloaded',
} as const;

export type ObjectRole = 'server' | 'worker' | 'box' | 'port' | 'network' | 'lan' | 'probe' | 'volume' | 'snapshot' | 'preload' | 'record';
export const MACHINE_ROLES = ['server', 'worker'] as const;
export type MachineRole = (typeof MACHINE_ROLES)[number];

export function clusterLabels(cluster: string, role: ObjectRole, version: string): Record<string, string> {
  return { [LABEL.managed]: version, [LABEL.cluster]: cluster, [LABEL.role]: role };
}

export function encodeJsonLabel(value: unknown): string {
  return JSON.stringify(value);
}

/** Decodes a JSON label, returning undefined for a missing or corrupt value instead of throwing. */
export function decodeJsonLabel<T>(labels: Record<string, string> | undefined, key: string, parse: (raw: unknown) => T): T | undefined {
  const raw = labels?.[key];
  if (raw === undefined) return undefined;
  try {
    return parse(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

export function decodeIndex(labels: Record<string, string> | undefined): number | undefined {
  const raw = labels?.[LABEL.index];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}
