import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { NameTakenError } from '../../src/errors.js';
import { cidrsOverlap } from '../../src/net/cidr.js';
import type {
  AttachedIo,
  BuildOptions,
  ContainerFile,
  ContainerInfo,
  ContainerSpec,
  EngineInfo,
  ExecOptions,
  ExecResult,
  ImageInfo,
  NetworkInfo,
  NetworkSpec,
  Provider,
  VolumeCopy,
  VolumeInfo,
} from '../../src/provider/types.js';

/**
 * An engine in memory, for testing the cluster layer without Docker. It follows Docker where kiab
 * depends on it: names are unique, a container needs its image and network, named volumes are made on
 * demand, a paused container cannot be started, a volume in use cannot be removed, labels filter as
 * `label=key` (value '') or `label=key=value`. Every call is recorded in `calls`, in order.
 */

export type Method = { [K in keyof Provider]: Provider[K] extends (...args: never[]) => unknown ? K : never }[keyof Provider];

export interface Call {
  method: Method;
  /** The object the call acts on (its first argument when that names one). */
  name: string | undefined;
  args: unknown[];
}

/** Files by path, as text. */
export type Files = Map<string, string>;

export interface FakeContainer {
  spec: ContainerSpec;
  info: ContainerInfo;
  files: Files;
}

export interface FakeVolume extends VolumeInfo {
  files: Files;
}

export interface FakeImage extends ImageInfo {
  files: Files;
}

type ExecAnswer = Partial<ExecResult> | ((command: string[]) => Partial<ExecResult>);

interface ExecRule {
  container: string;
  prefix: string;
  answer: ExecAnswer;
}

interface Failure {
  method: Method;
  name: string | undefined;
  error: Error;
}

/** What machines answer unless a test scripts otherwise: systemd is up, the box's forward script works. */
const DEFAULT_EXEC: Record<string, string> = {
  'systemctl is-system-running': 'running\n',
  '/usr/local/bin/kiab-box-forward': '',
};

export function matchesLabels(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => (value === '' ? key in labels : labels[key] === value));
}

function text(content: string | Buffer): string {
  return typeof content === 'string' ? content : content.toString();
}

export class FakeProvider implements Provider {
  readonly endpoint = 'fake://engine';
  /** Not on this host: host limits are not counted for the fake. */
  readonly localUid = undefined;
  readonly calls: Call[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, NetworkInfo>();
  readonly volumes = new Map<string, FakeVolume>();
  readonly images: FakeImage[] = [];
  private readonly failures: Failure[] = [];
  private readonly execRules: ExecRule[] = [];
  private ids = 0;

  /** Like a fresh Docker engine: the default bridge network exists, and the given images. */
  constructor(options: { images?: string[] } = {}) {
    this.networks.set('bridge', { id: this.id(), name: 'bridge', subnet: '172.17.0.0/16', labels: {}, createdAt: new Date() });
    for (const ref of options.images ?? []) this.addImage(ref);
  }

  // ---- test controls ----

  /** Makes the next call of `method` (on `name`, when given) throw, once. */
  failNext(method: Method, name?: string, error = new Error(`injected failure: ${method}${name ? ` ${name}` : ''}`)): void {
    this.failures.push({ method, name, error });
  }

  /** Answers commands in `container` that start with `prefix` (words joined by spaces); later rules win. */
  onExec(container: string, prefix: string, answer: ExecAnswer): void {
    this.execRules.unshift({ container, prefix, answer });
  }

  addImage(ref: string, labels: Record<string, string> = {}, files: Files = new Map()): void {
    this.storeImage(ref, labels, files);
  }

  /** Calls of one method, optionally on one object. */
  callsOf(method: Method, name?: string): Call[] {
    return this.calls.filter((call) => call.method === method && (name === undefined || call.name === name));
  }

  /** Forgets the calls so far, to look at one command's calls alone. */
  resetCalls(): void {
    this.calls.length = 0;
  }

  // ---- engine ----

  async ping(): Promise<EngineInfo> {
    this.record('ping', undefined, []);
    return { name: 'fake', version: '0.0.0-fake', apiVersion: '1.41', cgroupVersion: '2', cgroupDriver: 'systemd', rootDir: undefined };
  }

  /**
   * Containers the engine is still making (it fills their volumes from the image), by how many more looks
   * they stay unseen: the name is taken at once, listings and inspect show them only once made.
   */
  readonly beingMade = new Map<string, number>();

  async listContainers(labels: Record<string, string>): Promise<ContainerInfo[]> {
    this.record('listContainers', undefined, [labels]);
    return [...this.containers.values()]
      .filter((container) => !this.beingMade.get(container.info.name) && matchesLabels(container.info.labels, labels))
      .map((container) => structuredClone(container.info));
  }

  async inspectContainer(name: string): Promise<ContainerInfo | undefined> {
    this.record('inspectContainer', name, []);
    const unseen = this.beingMade.get(name);
    if (unseen) {
      this.beingMade.set(name, unseen - 1);
      return undefined;
    }
    const container = this.containers.get(name);
    return container && structuredClone(container.info);
  }

  async createContainer(spec: ContainerSpec): Promise<void> {
    this.record('createContainer', spec.name, [spec]);
    if (this.containers.has(spec.name)) throw new NameTakenError(spec.name);
    const image = this.image(spec.image);
    if (spec.network && !this.networks.has(spec.network.name)) throw new Error(`network ${spec.network.name} not found`);
    for (const volume of spec.volumes) this.ensureVolume(volume.name, volume.labels);
    const info: ContainerInfo = {
      id: this.id(),
      name: spec.name,
      image: spec.image,
      // The engine merges the image's labels under the container's, as Docker does.
      labels: { ...image.labels, ...spec.labels },
      state: 'created',
      addresses: spec.network ? { [spec.network.name]: spec.network.ip } : {},
      createdAt: new Date(),
      publishedPorts: structuredClone(spec.publish),
    };
    this.containers.set(spec.name, { spec: structuredClone(spec), info, files: new Map(image.files) });
  }

  async startContainer(name: string): Promise<void> {
    this.record('startContainer', name, []);
    const container = this.container(name);
    if (container.info.state === 'running') return;
    if (container.info.state === 'paused') throw new Error(`cannot start a paused container ${name}, try unpause instead`);
    this.checkAddressFree(container);
    container.info.state = 'running';
    container.info.startedAt = new Date();
  }

  async stopContainer(name: string, timeoutSeconds?: number): Promise<void> {
    this.record('stopContainer', name, [timeoutSeconds]);
    const container = this.containers.get(name);
    if (container) container.info.state = 'exited';
  }

  async removeContainer(name: string): Promise<void> {
    this.record('removeContainer', name, []);
    this.containers.delete(name);
  }

  async listNetworks(labels: Record<string, string>): Promise<NetworkInfo[]> {
    this.record('listNetworks', undefined, [labels]);
    return [...this.networks.values()].filter((network) => matchesLabels(network.labels, labels)).map((network) => structuredClone(network));
  }

  async subnetsInUse(): Promise<string[]> {
    this.record('subnetsInUse', undefined, []);
    return [...this.networks.values()].flatMap((network) => (network.subnet ? [network.subnet] : []));
  }

  async createNetwork(spec: NetworkSpec): Promise<void> {
    this.record('createNetwork', spec.name, [spec]);
    if (this.networks.has(spec.name)) throw new Error(`network with name ${spec.name} already exists`);
    const clash = [...this.networks.values()].find((network) => network.subnet && cidrsOverlap(network.subnet, spec.subnet));
    if (clash) throw new Error(`Pool overlaps with other one on this address space (${clash.name})`);
    if (spec.macvlan && [...this.networks.values()].some((network) => network.parent === spec.macvlan!.parent))
      throw new Error(`network dm-0 is already using parent interface ${spec.macvlan.parent}`);
    this.networks.set(spec.name, {
      id: this.id(),
      name: spec.name,
      subnet: spec.subnet,
      ...(spec.macvlan ? { parent: spec.macvlan.parent } : {}),
      labels: { ...spec.labels },
      createdAt: new Date(),
    });
  }

  async readFile(name: string, path: string): Promise<string | undefined> {
    this.record('readFile', name, [path]);
    const found = this.containers.get(name);
    if (!found) throw new Error(`No such container: ${name}`);
    return found.files.get(path);
  }

  async connectNetwork(container: string, network: { name: string; ip: string }): Promise<void> {
    this.record('connectNetwork', container, [network]);
    const found = this.containers.get(container);
    if (!found) throw new Error(`No such container: ${container}`);
    if (!this.networks.has(network.name)) throw new Error(`network ${network.name} not found`);
    found.info.addresses[network.name] = network.ip;
  }

  async removeNetwork(name: string): Promise<void> {
    this.record('removeNetwork', name, []);
    const attached = [...this.containers.values()].filter(
      (container) => (container.spec.network?.name === name || name in container.info.addresses) && container.info.state === 'running',
    );
    if (attached.length > 0) throw new Error(`error while removing network: network ${name} has active endpoints`);
    this.networks.delete(name);
  }

  async listVolumes(labels: Record<string, string>): Promise<VolumeInfo[]> {
    this.record('listVolumes', undefined, [labels]);
    return [...this.volumes.values()]
      .filter((volume) => matchesLabels(volume.labels, labels))
      .map((volume) => ({ name: volume.name, labels: { ...volume.labels } }));
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    this.record('createVolume', name, [labels]);
    this.ensureVolume(name, labels);
  }

  async removeVolume(name: string): Promise<void> {
    this.record('removeVolume', name, []);
    const user = [...this.containers.values()].find((container) => container.spec.volumes.some((volume) => volume.name === name));
    if (user) throw new Error(`remove ${name}: volume is in use by ${user.spec.name}`);
    this.volumes.delete(name);
  }

  async exec(name: string, command: string[], options?: ExecOptions): Promise<ExecResult> {
    this.record('exec', name, [command, options]);
    const container = this.container(name);
    if (container.info.state !== 'running') throw new Error(`container ${name} is ${container.info.state}, not running`);
    const line = command.join(' ');
    const rule = this.execRules.find((candidate) => candidate.container === name && line.startsWith(candidate.prefix));
    // `cat FILE` reads what was written into the container, as on an engine.
    if (!rule && command[0] === 'cat' && command.length === 2) {
      const content = container.files.get(command[1]!);
      return content === undefined
        ? { exitCode: 1, stdout: '', stderr: `cat: ${command[1]}: No such file or directory` }
        : { exitCode: 0, stdout: content, stderr: '' };
    }
    const answer = rule ? (typeof rule.answer === 'function' ? rule.answer(command) : rule.answer) : { stdout: DEFAULT_EXEC[line] ?? '' };
    return { exitCode: 0, stdout: '', stderr: '', ...answer };
  }

  async execAttached(name: string, command: string[], io: AttachedIo): Promise<number> {
    this.record('execAttached', name, [command, io]);
    this.container(name);
    return 0;
  }

  async writeFiles(name: string, files: ContainerFile[]): Promise<void> {
    this.record('writeFiles', name, [files]);
    const container = this.container(name);
    for (const file of files) container.files.set(file.path, text(file.content));
  }

  async waitForLog(name: string, pattern: RegExp, options: { sinceSeconds: number; timeoutMs: number; signal?: AbortSignal }): Promise<string> {
    this.record('waitForLog', name, [pattern, options]);
    if (this.container(name).info.state !== 'running') throw new Error(`${name} stopped before printing a line matching ${pattern}`);
    return 'Reached target multi-user.target - Multi-User System.';
  }

  async pauseContainer(name: string): Promise<void> {
    this.record('pauseContainer', name, []);
    const container = this.container(name);
    if (container.info.state !== 'running') throw new Error(`container ${name} is ${container.info.state}, not running`);
    container.info.state = 'paused';
  }

  async unpauseContainer(name: string): Promise<void> {
    this.record('unpauseContainer', name, []);
    const container = this.container(name);
    // Docker answers 409 for a container that is not paused; the real provider treats that as done.
    if (container.info.state === 'paused') container.info.state = 'running';
  }

  async commitContainer(name: string, ref: string, labels: Record<string, string>): Promise<void> {
    this.record('commitContainer', name, [ref, labels]);
    const container = this.container(name);
    this.storeImage(ref, { ...container.info.labels, ...labels }, new Map(container.files));
  }

  async copyVolumes(copies: VolumeCopy[], helper: { image: string; labels: Record<string, string> }): Promise<void> {
    this.image(helper.image);
    for (const copy of copies) {
      this.record('copyVolumes', copy.from, [copy.to, copy.labels, helper.image]);
      // Mounting a volume that does not exist creates it, unlabelled, as Docker does.
      const source = this.ensureVolume(copy.from, {});
      const target = this.ensureVolume(copy.to, copy.labels);
      for (const [path, content] of source.files) target.files.set(path, content);
    }
  }

  async bakeVolume(
    base: string,
    volume: string,
    path: string,
    ref: string,
    labels: { helper: Record<string, string>; image: Record<string, string> },
  ): Promise<void> {
    this.record('bakeVolume', base, [volume, path, ref, labels]);
    const baseImage = this.image(base);
    const source = this.ensureVolume(volume, {});
    const files = new Map(baseImage.files);
    for (const [file, content] of source.files) files.set(`${path}/${file}`, content);
    this.storeImage(ref, { ...baseImage.labels, ...labels.image }, files);
  }

  async copyFileFromImage(image: string, path: string, target: string, labels: Record<string, string>): Promise<void> {
    this.record('copyFileFromImage', image, [path, target, labels]);
    this.image(image);
    await writeFile(target, `${image}:${path}`, { mode: 0o755 });
  }

  async imageExists(ref: string): Promise<boolean> {
    this.record('imageExists', ref, []);
    return this.findImage(ref) !== undefined;
  }

  async listImages(labels: Record<string, string>): Promise<ImageInfo[]> {
    this.record('listImages', undefined, [labels]);
    return this.images.filter((image) => matchesLabels(image.labels, labels)).map(({ files: _files, ...info }) => structuredClone(info));
  }

  async removeImage(ref: string): Promise<void> {
    this.record('removeImage', ref, []);
    const image = this.findImage(ref);
    if (!image) return;
    image.tags = image.tags.filter((tag) => tag !== ref);
    if (image.tags.length === 0 || image.id === ref) this.images.splice(this.images.indexOf(image), 1);
  }

  async saveImages(refs: string[]): Promise<Readable> {
    this.record('saveImages', undefined, [refs]);
    for (const ref of refs) this.image(ref);
    return Readable.from([]);
  }

  async pullImage(ref: string, onProgress?: (line: string) => void): Promise<void> {
    this.record('pullImage', ref, [onProgress]);
    this.storeImage(ref, {}, new Map());
  }

  async tagImage(source: string, target: string): Promise<void> {
    this.record('tagImage', source, [target]);
    const image = this.images.find((candidate) => candidate.tags.includes(source));
    if (!image) throw new Error(`no such image: ${source}`);
    for (const other of this.images) other.tags = other.tags.filter((tag) => tag !== target);
    image.tags.push(target);
  }

  async buildImage(options: BuildOptions): Promise<void> {
    this.record('buildImage', options.tag, [options]);
    this.storeImage(options.tag, options.labels, new Map());
  }

  async importImage(tar: Readable, ref: string): Promise<void> {
    this.record('importImage', ref, [tar]);
    this.storeImage(ref, {}, new Map());
  }

  // ---- internals ----

  private record(method: Method, name: string | undefined, args: unknown[]): void {
    this.calls.push({ method, name, args });
    const index = this.failures.findIndex((failure) => failure.method === method && (failure.name === undefined || failure.name === name));
    if (index < 0) return;
    const [failure] = this.failures.splice(index, 1);
    throw failure!.error;
  }

  private id(): string {
    this.ids += 1;
    return `fake${String(this.ids).padStart(6, '0')}`;
  }

  private container(name: string): FakeContainer {
    const container = this.containers.get(name);
    if (!container) throw new Error(`No such container: ${name}`);
    return container;
  }

  private findImage(ref: string): FakeImage | undefined {
    return this.images.find((image) => image.id === ref || image.tags.includes(ref));
  }

  private image(ref: string): FakeImage {
    const image = this.findImage(ref);
    if (!image) throw new Error(`No such image: ${ref}`);
    return image;
  }

  /** Points `ref` at a new image; an image it leaves without tags stays, dangling, as in Docker. */
  private storeImage(ref: string, labels: Record<string, string>, files: Files): void {
    for (const image of this.images) image.tags = image.tags.filter((tag) => tag !== ref);
    this.images.push({ id: `sha256:${this.id()}`, tags: [ref], labels: { ...labels }, createdAt: new Date(), sizeBytes: 1000 + files.size, files });
  }

  /** Docker makes a named volume on first use with the labels given then, and leaves an existing one as it is. */
  private ensureVolume(name: string, labels: Record<string, string>): FakeVolume {
    const existing = this.volumes.get(name);
    if (existing) return existing;
    const volume: FakeVolume = { name, labels: { ...labels }, files: new Map() };
    this.volumes.set(name, volume);
    return volume;
  }

  private checkAddressFree(container: FakeContainer): void {
    if (!container.spec.network) return;
    const { name, ip } = container.spec.network;
    const holder = [...this.containers.values()].find(
      (other) => other !== container && other.info.state === 'running' && other.spec.network?.name === name && other.spec.network.ip === ip,
    );
    if (holder) throw new Error(`Address already in use: ${ip} is held by ${holder.spec.name}`);
  }
}
