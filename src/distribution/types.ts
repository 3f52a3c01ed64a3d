import type { AddonProbe } from '../addons/index.js';
import type { Arch, AssetManifest } from '../assets/cache.js';
import type { InotifyNeed } from '../host/inotify.js';
import type { MachineRole } from '../labels.js';
import type { ClusterNames } from '../names.js';
import type { ContainerFile, Provider } from '../provider/types.js';
import type { Reporter } from '../reporter.js';
import type { RegistryCredentials, RegistryEndpoints } from '../registry/index.js';
import type { AddonName, ClusterSpec, DistributionName } from '../spec/schema.js';

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
  names: ClusterNames;
  machines: MachineRef[];
  box: { name: string; hostname: string; ip: string };
  /** Addresses of the host's at which other machines reach the API (see `ports.address`): the API certificate names them too. */
  externalAddresses: string[];
  registry: RegistryEndpoints | undefined;
  /** The registry's login (registry.auth), which machines' image pulls send: written into machines' files only (0600). */
  registryCredentials?: RegistryCredentials;
  signal?: AbortSignal;
  /** When `up` gives up (epoch ms): work that waits stops there and says why. */
  deadline: number;
  progress: (detail: string) => void;
  /**
   * Call once the first server's API answers: the box then checks every server's API, verified against the
   * cluster CA, before sending it requests (until then it only knows whether a server accepts connections).
   */
  controlPlaneUp: () => Promise<void>;
  /** Something the user should know that does not stop the work (a drain that failed). */
  warn: (message: string) => void;
}

/** An image derived from kiab's node image with a distribution's binaries and units baked in. */
export interface NodeImagePlan {
  tag: string;
  /** Loads the build context only when the image must be built (it can be hundreds of MB). */
  files: () => Promise<Array<{ path: string; content: string | Buffer; mode?: number }>>;
  /** Container images each role's machines hold from their first start (see cluster/lifecycle/preload.ts). */
  preload?: ImagePreload;
}

/**
 * What a machine's containerd is given once per image instead of at every `up`: loaded into a machine made
 * from the plan's image, then kept in an image of its own per role. The containerd directory passes through
 * the engine's overlay filesystem on the way, which keeps no overlay whiteouts: images whose layers delete
 * files of lower ones do not belong here (kiab's kubeadm images are single layers).
 */
export interface ImagePreload {
  /** Names what a role's machines get (it changes when any of their images does): part of the preloaded image's tag. */
  digest(role: MachineRole): string;
  /** Loads a role's images into a running machine made from the plan's image; resolves to their references. */
  load(provider: Provider, machine: string, role: MachineRole): Promise<string[]>;
}

/** `kiab assets build|pull`: which set, and how to report and stop. */
export interface AssetRequest {
  provider: Provider;
  reporter: Reporter;
  /** As the user typed it; undefined means the distribution's default. */
  version: string | undefined;
  /** Architectures to fetch, where a distribution fetches more than the host's. */
  arches: Arch[];
  force: boolean;
  /** Also the suite `kiab conformance` runs for this Kubernetes version, with its test images. */
  conformance: boolean;
  signal?: AbortSignal;
}

/** What a distribution's preflight gets: the spec `up` is about to make, and the engine (images are pulled through it). */
export interface PreflightRequest {
  spec: ClusterSpec;
  provider: Provider;
  reporter: Reporter;
  signal?: AbortSignal;
}

/** A verified set of assets in the cache. */
export interface AssetSet {
  dir: string;
  manifest: AssetManifest;
  /** Already cached and verified: nothing was built or downloaded. */
  reused: boolean;
}

/**
 * An in-place upgrade of a running cluster to another release, as steps `kiab upgrade` orders (cluster/lifecycle/upgrade.ts):
 * each looks before it acts, so running the upgrade again finishes one that was interrupted.
 */
export interface UpgradeSteps {
  /**
   * The release `asked` names, as an upgrade from `from`: a UsageError for a version that goes back, skips a
   * minor or is unknown; a KiabError naming the command that makes its assets when they are not cached.
   */
  target(from: string, asked: string): Promise<string>;
  /** The version a machine's node agent runs now. */
  agentRuns(context: DistributionContext, machine: MachineRef): Promise<string>;
  /** Whether the control plane on a server runs `version` already. */
  controlPlaneRuns(context: DistributionContext, server: MachineRef, version: string): Promise<boolean>;
  /** Puts the release's images into a machine, before anything changes. */
  loadImages(context: DistributionContext, machine: MachineRef, version: string): Promise<void>;
  /** Upgrades a server's control plane: the first one upgrades the cluster's, the others follow. */
  upgradeControlPlane(context: DistributionContext, server: MachineRef, first: boolean, version: string): Promise<void>;
  /** Cordons a machine and moves what may leave it elsewhere, as PodDisruptionBudgets allow. */
  drain(context: DistributionContext, machine: MachineRef): Promise<void>;
  /** Gives a machine the release's node agent and restarts it (its containers keep running). */
  upgradeNodeAgent(context: DistributionContext, machine: MachineRef, version: string): Promise<void>;
  uncordon(context: DistributionContext, machine: MachineRef): Promise<void>;
}

/**
 * One Kubernetes flavour (or none): what goes on each machine, how nodes join and leave, how to read
 * the kubeconfig. It talks to machines only through the provider, and is picked by name from the spec.
 */
export interface Distribution {
  readonly name: DistributionName;
  /** Whether there is a Kubernetes API to wait for, write a kubeconfig for and report on. */
  readonly kubernetes: boolean;
  /** The version used when the spec and flags name none (undefined: nothing is versioned). */
  readonly defaultVersion: string | undefined;
  /**
   * The exact version a user's version names (a minor such as 1.36 means the newest patch the distribution
   * knows; undefined means the default), or a UsageError listing the versions it knows. Undefined where
   * nothing is versioned.
   */
  resolveVersion(asked: string | undefined): string | undefined;
  /**
   * The exact release a node entry's own `kubernetesVersion` names, or a UsageError naming `field`. Absent
   * where a node cannot run another version than its cluster (the distribution's preflight refuses the field).
   */
  resolveNodeVersion?(asked: string, field: string): string;
  /**
   * Whether a machine is clean as the engine creates it, because `install` puts nothing on it. `up` then takes
   * the `clean` snapshot before the machines first start: an empty layer per machine, no pause, no volume copy.
   */
  readonly cleanAsCreated: boolean;
  /**
   * Runs before anything is created: fetches missing assets (reporting that as a step of its own), or
   * throws a KiabError naming what is missing and every way to get it.
   */
  preflight(request: PreflightRequest): Promise<void>;
  /**
   * How the box's load balancer tells a healthy machine: the API path each server answers 200 on to anonymous
   * requests once it can serve, and the service proxy's health endpoint that says a machine serves NodePorts.
   */
  readonly health: { apiPath?: string; nodeProxy?: { port: number; path: string } };
  /** The CA (PEM) that signs the servers' API certificates, once the first server has made it. */
  apiCertificateAuthority(provider: Provider, machines: MachineRef[]): Promise<string | undefined>;
  /**
   * The addons this distribution runs itself, with how to tell each works; kiab installs the other wanted
   * ones where there is Kubernetes (a distribution without it can run none).
   */
  readonly bundledAddons: Partial<Record<AddonName, AddonProbe>>;
  /** kube-system pods (by name prefix) that must run before the cluster counts as ready. */
  readonly systemPods: string[];
  /** Those of systemPods that run without a pod network (on their machine's own): all a cluster without a CNI waits for. */
  readonly hostNetworkPods?: string[];
  /** The node image machines run, when the distribution derives its own from kiab's base node image. */
  nodeImage(spec: ClusterSpec, baseNodeImage: string): Promise<NodeImagePlan | undefined>;
  /** inotify instances and watches one machine of this role takes from the host's per-user limits (measured). */
  inotifyNeed(role: MachineRole): InotifyNeed;
  /** Directories that must live on a volume of their own on each machine (nested overlayfs, data). */
  machineVolumes(role: MachineRole): Array<{ purpose: string; path: string }>;
  /** Files written into a machine before its first boot. */
  machineFiles(context: DistributionContext, machine: MachineRef): ContainerFile[];
  /** Brings the distribution up on all machines; idempotent, called on every `up`. */
  install(context: DistributionContext): Promise<void>;
  /** Joins one machine added after install. */
  join(context: DistributionContext, machine: MachineRef): Promise<void>;
  /** Takes a machine out cleanly before it is removed (drain, delete the node object). */
  leave(context: DistributionContext, machine: MachineRef): Promise<void>;
  /** Refreshes what every machine knows of the others after machines came or went (routes...). */
  membershipChanged(context: DistributionContext): Promise<void>;
  /** The cluster-admin kubeconfig as the first server has it (server URL as seen inside the cluster). */
  adminKubeconfig(context: DistributionContext): Promise<string | undefined>;
  /**
   * Restarts a running machine's node agent. After a restore the agents start before the API answers and
   * back off between attempts to register (up to 7 s for the kubelet); once it answers, restarting those
   * that have not reported yet is quicker than waiting for their next attempt. Absent where not needed.
   */
  restartNodeAgent?(context: DistributionContext, machine: MachineRef): Promise<void>;
  /** The last lines of the log that explains why a machine's Kubernetes is not ready. */
  diagnose(context: DistributionContext, machine: MachineRef): Promise<string>;
  /** How to reach the containerd that runs this distribution's containers, as a ctr command prefix. */
  ctr(): string[];
  /** In-place upgrades to another release; absent where the distribution has none. */
  readonly upgrade?: UpgradeSteps;
  /** `kiab assets build`: compiles the assets from source, or refuses with a UsageError when this distribution cannot. */
  buildAssets(request: AssetRequest): Promise<AssetSet[]>;
  /** `kiab assets pull`: downloads the release assets and verifies them against their published sums. */
  pullAssets(request: AssetRequest): Promise<AssetSet[]>;
  /** `kiab assets import`: takes release files from disk, each checked before it enters the cache. */
  importAssets(version: string | undefined, files: string[]): Promise<AssetSet[]>;
}
