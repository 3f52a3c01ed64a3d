import type { MachineRole } from '../labels.js';
import type { ContainerFile, Provider } from '../provider/types.js';
import type { RegistryEndpoints } from '../registry/index.js';
import type { ClusterSpec, DistributionName } from '../spec/schema.js';

/** A machine as a distribution sees it: a name to exec into, a role and a fixed address. */
export interface MachineRef {
  name: string;
  role: MachineRole;
  index: number;
  ip: string;
}

export interface DistributionContext {
  provider: Provider;
  spec: ClusterSpec;
  machines: MachineRef[];
  box: { name: string; hostname: string; ip: string };
  registry: RegistryEndpoints | undefined;
  signal?: AbortSignal;
  progress: (detail: string) => void;
}

/**
 * One Kubernetes flavour (or none): what goes on each machine, how nodes join and leave.
 * It talks to machines only through the provider, and is picked by name from the spec.
 */
export interface Distribution {
  readonly name: DistributionName;
  /** Runs before anything is created; throws a KiabError when the cluster cannot be made (missing assets...). */
  preflight(spec: ClusterSpec): Promise<void>;
  /** Directories that must live on a volume of their own on each machine (nested overlayfs, data). */
  machineVolumes(role: MachineRole): Array<{ purpose: string; path: string }>;
  /** Files written into a machine before its first boot. */
  machineFiles(context: DistributionContext, machine: MachineRef): ContainerFile[];
  /** Brings the distribution up on all machines; idempotent, called on every `up`. */
  install(context: DistributionContext): Promise<void>;
  /** Joins one machine added after install. */
  join(context: DistributionContext, machine: MachineRef): Promise<void>;
  /** How to reach the containerd that runs this distribution's containers, as a ctr command prefix. */
  ctr(): string[];
  /** Takes a machine out cleanly before it is removed (drain, delete the node object). */
  leave(context: DistributionContext, machine: MachineRef): Promise<void>;
}
