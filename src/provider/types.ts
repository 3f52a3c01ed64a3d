import type { Readable, Writable } from 'node:stream';

/**
 * Where machines live. Nothing here knows Kubernetes: an engine that can run systemd containers
 * with fixed addresses, exec into them and copy files is enough. Docker is the first; another engine is
 * a new folder implementing this interface.
 */
export interface Provider {
  /** A human-readable description of the endpoint, for error messages. */
  readonly endpoint: string;
  /**
   * The user the engine's containers run as on this host, when the engine is on this host (host limits
   * such as inotify are counted against it); undefined for a remote engine.
   */
  readonly localUid: number | undefined;
  ping(): Promise<EngineInfo>;

  listContainers(labels: Record<string, string>): Promise<ContainerInfo[]>;
  inspectContainer(name: string): Promise<ContainerInfo | undefined>;
  createContainer(spec: ContainerSpec): Promise<void>;
  startContainer(name: string): Promise<void>;
  stopContainer(name: string, timeoutSeconds?: number): Promise<void>;
  removeContainer(name: string): Promise<void>;

  listNetworks(labels: Record<string, string>): Promise<NetworkInfo[]>;
  /** Subnets of every network the engine has, kiab's or not, to pick one that clashes with none. */
  subnetsInUse(): Promise<string[]>;
  createNetwork(spec: NetworkSpec): Promise<void>;
  /** Attaches a container, running or only created, to one more network at a fixed address. */
  connectNetwork(container: string, network: { name: string; ip: string }): Promise<void>;
  removeNetwork(name: string): Promise<void>;

  listVolumes(labels: Record<string, string>): Promise<VolumeInfo[]>;
  /** Makes an empty volume (an existing one of that name is left as it is). */
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;

  exec(name: string, command: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Runs a command with the caller's streams attached (kiab exec / shell); resolves to its exit code. */
  execAttached(name: string, command: string[], io: AttachedIo): Promise<number>;
  /** Writes files into a container, running or only created (so configuration lands before first boot). */
  writeFiles(name: string, files: ContainerFile[]): Promise<void>;
  /** One file of a container, running or not (volumes included); undefined when it has no such file. */
  readFile(name: string, path: string): Promise<string | undefined>;
  /** Resolves when a line of the container's output since `sinceSeconds` matches; rejects at the deadline. */
  waitForLog(name: string, pattern: RegExp, options: { sinceSeconds: number; timeoutMs: number; signal?: AbortSignal }): Promise<string>;

  /** Freezes every process of a container (cgroup freezer) without stopping it; unpause thaws it. */
  pauseContainer(name: string): Promise<void>;
  unpauseContainer(name: string): Promise<void>;
  /** Saves a container's filesystem (not its volumes or tmpfs) as an image with extra labels. */
  commitContainer(name: string, ref: string, labels: Record<string, string>): Promise<void>;
  /**
   * Creates each copy's volume `to` (with its labels) and copies every file of its volume `from` into it, all in
   * one helper container run from `helper.image` and labelled `helper.labels`.
   */
  copyVolumes(copies: VolumeCopy[], helper: { image: string; labels: Record<string, string> }): Promise<void>;
  /**
   * Makes image `ref`: image `base` with the files of `volume` at `path` in its own filesystem (where a volume
   * later mounted at `path` is filled from). The copy runs in a helper labelled `labels.helper`; the image keeps
   * the base's start-up and carries `labels.image`, the helper's labels cleared.
   */
  bakeVolume(base: string, volume: string, path: string, ref: string, labels: { helper: Record<string, string>; image: Record<string, string> }): Promise<void>;

  /** Writes one regular file of an image to `target` (mode 0755) without running the image. */
  copyFileFromImage(image: string, path: string, target: string, labels: Record<string, string>): Promise<void>;
  imageExists(ref: string): Promise<boolean>;
  listImages(labels: Record<string, string>): Promise<ImageInfo[]>;
  removeImage(ref: string): Promise<void>;
  /** The engine's `save` of images: a tar stream in the Docker archive format, for importing elsewhere. */
  saveImages(refs: string[]): Promise<Readable>;
  pullImage(ref: string, onProgress?: (line: string) => void): Promise<void>;
  /** Gives an image one more name (`docker tag`), taking the name from any image that held it. */
  tagImage(source: string, target: string): Promise<void>;
  buildImage(options: BuildOptions): Promise<void>;
  importImage(tar: Readable, ref: string): Promise<void>;
}

export interface EngineInfo {
  name: string;
  version: string;
  /** The engine API version it speaks (1.41 and later can give a container a private cgroup namespace). */
  apiVersion: string;
  cgroupVersion: string;
  cgroupDriver: string;
  /** Where the engine keeps images, containers and volumes on its host, when it says. */
  rootDir: string | undefined;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing';

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  state: ContainerState;
  /** Address on each network, by network name. */
  addresses: Record<string, string>;
  createdAt: Date;
  startedAt?: Date;
  /** Published ports: container port/proto to host address:port. */
  publishedPorts: PublishedPort[];
}

export interface PublishedPort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

export interface ContainerSpec {
  name: string;
  hostname: string;
  image: string;
  labels: Record<string, string>;
  /** None: the container has no network at all (only loopback). `ip6`: its IPv6 address, on a network with IPv6. */
  network?: { name: string; ip: string; ip6?: string; aliases?: string[] };
  /**
   * `machine`: a systemd container that can run nested containers and a kubelet.
   * `router`: an ordinary process with NET_ADMIN and IP forwarding in its own namespace (the box).
   */
  kind: 'machine' | 'router';
  /** Named volumes, created on demand with the given labels. */
  volumes: Array<{ name: string; path: string; labels: Record<string, string> }>;
  publish: PublishedPort[];
  /** Host folders or files bound into the container; the engine refuses a source that does not exist. */
  binds?: BindMount[];
  env?: Record<string, string>;
  /** Runs this instead of the image's own entrypoint. */
  entrypoint?: string[];
  /** Relative CPU weight when containers contend for the host's CPUs (the engine's default, 1024, when absent). */
  cpuShares?: number;
}

export interface BindMount {
  hostPath: string;
  path: string;
  readOnly: boolean;
  /** How mounts made below it later travel: private, host to container, or both ways. */
  propagation: 'private' | 'host-to-container' | 'bidirectional';
}

export interface NetworkSpec {
  name: string;
  subnet: string;
  gateway: string;
  /** An IPv6 range beside the IPv4 one, for clusters with IPv6 (the engine's gateway takes its ::1). */
  ipv6Subnet?: string;
  labels: Record<string, string>;
  /**
   * A network on a link of the engine's host (macvlan, bridge mode) instead of a private bridge: its members are
   * hosts of that link's LAN. `ipRange` is the only part of the subnet the engine may hand out.
   */
  macvlan?: { parent: string; ipRange: string };
  /**
   * A network of the engine's swarm instead of one of its own: an attachable overlay, made on a manager, that
   * containers of every engine of the swarm join at fixed addresses (the network of a cluster over several engines).
   */
  overlay?: true;
}

export interface NetworkInfo {
  id: string;
  name: string;
  subnet?: string;
  /** The host link a macvlan network sits on. */
  parent?: string;
  labels: Record<string, string>;
  createdAt: Date;
}

export interface VolumeCopy {
  from: string;
  to: string;
  labels: Record<string, string>;
}

export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  createdAt: Date;
  sizeBytes: number;
}

export interface ExecOptions {
  /** Input for the command; a stream is piped through without buffering it whole. */
  stdin?: Buffer | string | Readable;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface AttachedIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  tty: boolean;
  size?: { rows: number; columns: number };
  onResize?: (listener: (size: { rows: number; columns: number }) => void) => void;
}

export interface ContainerFile {
  path: string;
  content: string | Buffer;
  mode?: number;
}

export interface BuildOptions {
  tag: string;
  files: Array<{ path: string; content: string | Buffer; mode?: number }>;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  onProgress?: (line: string) => void;
}

/**
 * An engine's part in a Docker Swarm, the engines' own network between hosts (an attachable overlay spans
 * the engines of one swarm). kiab reads it before a cluster over several engines and changes it only when
 * asked (`kiab engines join`).
 */
export interface SwarmControl {
  readonly endpoint: string;
  /** Where this engine stands; answers within seconds or rejects, as a ping does. */
  membership(): Promise<SwarmMembership>;
  /** The node IDs of every member of this engine's swarm; only a manager knows them. */
  memberIds(): Promise<string[]>;
  /** Makes this engine the first manager of a new swarm, advertising that address (the engine picks one when undefined). */
  init(advertiseAddress: string | undefined): Promise<void>;
  /** The token a worker joins this manager's swarm with: a secret, for join() and nothing else (never printed or logged). */
  workerToken(): Promise<string>;
  /** Joins the swarm whose manager listens at `managerAddress` (ADDR:PORT) as a worker. */
  join(options: { managerAddress: string; token: string; advertiseAddress: string | undefined }): Promise<void>;
}

export interface SwarmMembership {
  /** The engine's own ID, whichever address it was reached at: one engine listed twice has one. */
  engineId: string;
  /** Docker's LocalNodeState. */
  state: 'inactive' | 'pending' | 'active' | 'error' | 'locked';
  /** This engine's node ID in its swarm (undefined when in none). */
  nodeId: string | undefined;
  /** Whether this engine manages its swarm (then it can say who is a member, and make overlay networks). */
  manager: boolean;
  /** Where other engines join this manager (ADDR:2377); undefined for a worker or no member. */
  managerAddress: string | undefined;
  /** What the engine says went wrong, in the error state. */
  error: string | undefined;
}
