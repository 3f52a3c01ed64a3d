import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import { extract, pack } from 'tar-stream';
import { AbortedError, KiabError, NameTakenError, throwIfAborted } from '../../errors.js';
import type {
  AttachedIo,
  BuildOptions,
  ContainerFile,
  ContainerInfo,
  ContainerSpec,
  ContainerState,
  EngineInfo,
  ExecOptions,
  ExecResult,
  ImageInfo,
  NetworkInfo,
  NetworkSpec,
  Provider,
  PublishedPort,
  VolumeCopy,
  VolumeInfo,
} from '../types.js';
import { ThawDeniedError, thawContainerCgroups } from '../../host/freezer.js';
import { poll } from '../../wait.js';
import { splitImageRef } from '../../images/ref.js';
import { resolveEndpoint, type EngineEndpoint } from './connect.js';
import { containerCreateOptions } from './container-config.js';
import { CALL_MS, FILESYSTEM_MS, PING_MS, REMOVAL_MS, STREAM_IDLE_MS, idleDeadline, withinDeadline } from './deadline.js';
import { collectDemuxed, followProgress, isConflict, isNotFound, isNotModified } from './streams.js';

function labelFilter(labels: Record<string, string>): string {
  return JSON.stringify({ label: Object.entries(labels).map(([key, value]) => (value === '' ? key : `${key}=${value}`)) });
}

/** The driver of a network and its options: a bridge of this engine, a macvlan on a link of its host, or the swarm's overlay. */
function networkDriver(spec: NetworkSpec): { Driver: string; Options: Record<string, string>; Attachable?: boolean } {
  if (spec.macvlan) return { Driver: 'macvlan', Options: { parent: spec.macvlan.parent, macvlan_mode: 'bridge' } };
  // Attachable: plain containers (not only swarm services) of any engine of the swarm may join it.
  if (spec.overlay) return { Driver: 'overlay', Options: {}, Attachable: true };
  return { Driver: 'bridge', Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'true' } };
}

/** How long a swarm may take to release an overlay network after its last container was removed. */
const OVERLAY_RELEASE_MS = 30_000;
/** How long a cgroup this user may not thaw stays frozen before the removal it holds stops waiting for it. */
const FROZEN_FOR_GOOD_MS = 5_000;

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

export class DockerProvider implements Provider {
  readonly endpoint: string;
  readonly localUid: number | undefined;
  private readonly docker: Docker;

  constructor(endpoint: EngineEndpoint = resolveEndpoint()) {
    this.endpoint = endpoint.description;
    this.localUid = endpoint.localUid;
    this.docker = new Docker(endpoint.options);
  }

  /** One request to the engine, under its deadline (see deadline.ts). */
  private call<T>(what: string, request: (abortSignal: AbortSignal) => Promise<T>, ms = CALL_MS): Promise<T> {
    return withinDeadline(this.endpoint, what, ms, request);
  }

  async ping(): Promise<EngineInfo> {
    try {
      // A short deadline: a hung engine is named in seconds, before any command has begun.
      const [info, version] = await this.call(
        'a ping',
        // Both calls take an abort signal, which their typings leave out.
        (abortSignal) => {
          const engine = this.docker as unknown as {
            info(options: object): Promise<Record<string, unknown>>;
            version(options: object): Promise<Docker.DockerVersion>;
          };
          return Promise.all([engine.info({ abortSignal }), engine.version({ abortSignal })]);
        },
        PING_MS,
      );
      return {
        name: String(info.Name ?? 'docker'),
        version: version.Version,
        apiVersion: version.ApiVersion,
        cgroupVersion: String(info.CgroupVersion ?? '1'),
        cgroupDriver: String(info.CgroupDriver ?? 'cgroupfs'),
        rootDir: typeof info.DockerRootDir === 'string' ? info.DockerRootDir : undefined,
      };
    } catch (error) {
      if (error instanceof KiabError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code && UNREACHABLE_CODES.has(code) ? code : (error as Error).message;
      throw new KiabError(`cannot reach the Docker engine at ${this.endpoint} (${reason})`, {
        hint: 'start it (`sudo systemctl start docker`, or `sudo dockerd &`) or point DOCKER_HOST at a running engine',
        cause: error,
      });
    }
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const summaries = await this.call('a container listing', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: labelFilter(labels), abortSignal }),
    );
    const infos = await Promise.all(summaries.map((summary) => this.inspectContainer(summary.Id)));
    return infos.filter((info): info is ContainerInfo => info !== undefined);
  }

  async inspectContainer(name: string): Promise<ContainerInfo | undefined> {
    let data: Docker.ContainerInspectInfo;
    try {
      data = await this.call(`an inspect of ${name}`, (abortSignal) => this.docker.getContainer(name).inspect({ abortSignal }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const addresses: Record<string, string> = {};
    for (const [network, settings] of Object.entries(data.NetworkSettings.Networks ?? {})) {
      const address = settings.IPAddress || settings.IPAMConfig?.IPv4Address;
      if (address) addresses[network] = address;
    }
    const publishedPorts: PublishedPort[] = [];
    for (const [key, bindings] of Object.entries(data.HostConfig.PortBindings ?? {})) {
      const [port, protocol] = key.split('/');
      for (const binding of (bindings ?? []) as Array<{ HostIp: string; HostPort: string }>) {
        publishedPorts.push({
          containerPort: Number(port),
          protocol: protocol === 'udp' ? 'udp' : 'tcp',
          hostIp: binding.HostIp,
          hostPort: Number(binding.HostPort),
        });
      }
    }
    const startedAt = data.State.StartedAt && !data.State.StartedAt.startsWith('0001') ? new Date(data.State.StartedAt) : undefined;
    return {
      id: data.Id,
      name: data.Name.replace(/^\//, ''),
      image: data.Config.Image,
      labels: data.Config.Labels ?? {},
      state: data.State.Status as ContainerState,
      addresses,
      createdAt: new Date(data.Created),
      ...(startedAt ? { startedAt } : {}),
      publishedPorts,
    };
  }

  async createContainer(spec: ContainerSpec): Promise<void> {
    try {
      await this.call(`the creation of ${spec.name}`, (abortSignal) => this.docker.createContainer({ ...containerCreateOptions(spec), abortSignal }));
    } catch (error) {
      if (isConflict(error)) throw new NameTakenError(spec.name);
      throw error;
    }
  }

  async startContainer(name: string): Promise<void> {
    try {
      await this.call(`the start of ${name}`, (abortSignal) => this.docker.getContainer(name).start({ abortSignal }));
    } catch (error) {
      if (!isNotModified(error)) throw error;
    }
  }

  async stopContainer(name: string, timeoutSeconds = 10): Promise<void> {
    try {
      // The engine waits up to the grace period for the container's own stop, then kills it.
      await this.call(
        `the stop of ${name}`,
        (abortSignal) => this.docker.getContainer(name).stop({ t: timeoutSeconds, abortSignal }),
        CALL_MS + timeoutSeconds * 1000,
      );
    } catch (error) {
      if (!isNotModified(error) && !isNotFound(error)) throw error;
    }
  }

  async removeContainer(name: string): Promise<void> {
    const id = (await this.inspectContainer(name))?.id;
    if (!id) return;
    // A frozen process cannot die of the engine's kill, and the kill may wait on it without end: the machine's
    // frozen cgroups are thawed while the removal is pending, not after it failed.
    const thawing = this.thawWhilePending(id);
    const givenUp = new AbortController();
    const removal = async (): Promise<void> => {
      try {
        await this.call(`the removal of ${name}`, (abortSignal) => this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }), REMOVAL_MS);
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        // "Removal already in progress" (409), or a kill that "did not receive an exit event": the engine is still
        // at it, and the container is removed only once it is gone; the network cannot go before.
        if (!isConflict(error) && !/did not receive an exit event/.test((error as Error).message)) throw error;
      }
      await poll(async () => ((await this.inspectContainer(id)) ? undefined : true), {
        interval: 500,
        deadline: Date.now() + REMOVAL_MS,
        signal: givenUp.signal,
        timeout: () => new KiabError(`${name} was still not removed after ${REMOVAL_MS / 1000} s`, { hint: `see \`docker inspect ${name}\`` }),
      });
    };
    try {
      await Promise.race([removal(), thawing.stuck]);
    } catch (error) {
      // A thaw this user may not do is why the removal failed: its error says what to run.
      throw thawing.denied() ?? error;
    } finally {
      thawing.stop();
      givenUp.abort();
    }
  }

  /**
   * Thaws a container's frozen cgroups now and every half second until stopped (runc may freeze one again as it
   * tears a pod down), where this host holds them (see host/freezer.ts).
   */
  private thawWhilePending(id: string): { stop(): void; denied(): ThawDeniedError | undefined; stuck: Promise<never> } {
    if (this.localUid === undefined) return { stop: () => undefined, denied: () => undefined, stuck: new Promise<never>(() => undefined) };
    let denied: ThawDeniedError | undefined;
    let deniedSince: number | undefined;
    let giveUp: (error: ThawDeniedError) => void = () => undefined;
    // A frozen process cannot die, so a cgroup this user may not thaw that stays frozen holds the removal for
    // its whole deadline: it ends sooner, with the command that thaws it. One frozen for a moment (runc's own)
    // is let be.
    const stuck = new Promise<never>((_resolve, reject) => (giveUp = reject));
    const thaw = (): void =>
      void thawContainerCgroups(id).then(
        () => (deniedSince = undefined),
        (error: unknown) => {
          if (!(error instanceof ThawDeniedError)) return;
          denied = error;
          deniedSince ??= Date.now();
          if (Date.now() - deniedSince >= FROZEN_FOR_GOOD_MS) giveUp(error);
        },
      );
    thaw();
    const timer = setInterval(thaw, 500);
    return { stop: () => clearInterval(timer), denied: () => denied, stuck };
  }

  async listNetworks(labels: Record<string, string>): Promise<NetworkInfo[]> {
    const networks = await this.call('a network listing', (abortSignal) => this.docker.listNetworks({ filters: labelFilter(labels), abortSignal }));
    return networks.map((network) => {
      const subnet = network.IPAM?.Config?.find((config) => config.Subnet?.includes('.'))?.Subnet;
      const parent = network.Driver === 'macvlan' ? network.Options?.parent : undefined;
      return {
        id: network.Id,
        name: network.Name,
        ...(subnet ? { subnet } : {}),
        ...(parent ? { parent } : {}),
        labels: network.Labels ?? {},
        createdAt: new Date(network.Created),
      };
    });
  }

  async subnetsInUse(): Promise<string[]> {
    const networks = await this.call('a network listing', (abortSignal) => this.docker.listNetworks({ abortSignal }));
    return networks.flatMap((network) =>
      (network.IPAM?.Config ?? []).map((config) => config.Subnet).filter((subnet): subnet is string => !!subnet && subnet.includes('.')),
    );
  }

  async createNetwork(spec: NetworkSpec): Promise<void> {
    await this.call(`the creation of network ${spec.name}`, (abortSignal) =>
      this.docker.createNetwork({
        abortSignal,
        Name: spec.name,
        CheckDuplicate: true,
        Labels: spec.labels,
        IPAM: {
          Driver: 'default',
          Config: [
            { Subnet: spec.subnet, Gateway: spec.gateway, ...(spec.macvlan ? { IPRange: spec.macvlan.ipRange } : {}) },
            ...(spec.ipv6Subnet ? [{ Subnet: spec.ipv6Subnet }] : []),
          ],
        },
        ...(spec.ipv6Subnet ? { EnableIPv6: true } : {}),
        ...networkDriver(spec),
      }),
    );
  }

  async connectNetwork(container: string, network: { name: string; ip: string }): Promise<void> {
    try {
      await this.call(`connecting ${container} to network ${network.name}`, (abortSignal) =>
        this.docker
          .getNetwork(network.name)
          .connect({ abortSignal, Container: container, EndpointConfig: { IPAMConfig: { IPv4Address: network.ip } } } as Docker.NetworkConnectOptions),
      );
    } catch (error) {
      // Already a member: what was asked is done.
      if (!isConflict(error) && !/already exists in network/.test((error as Error).message)) throw error;
    }
  }

  async removeNetwork(name: string): Promise<void> {
    let lastError: unknown;
    await poll(
      async () => {
        try {
          await this.call(`the removal of network ${name}`, (abortSignal) => this.docker.getNetwork(name).remove({ abortSignal }));
          return true;
        } catch (error) {
          if (isNotFound(error)) return true;
          // A swarm forgets a removed container's attachment to an overlay a moment after the container is gone.
          if (!/in use by task/.test((error as Error).message)) throw error;
          lastError = error;
          return undefined;
        }
      },
      {
        interval: 500,
        deadline: Date.now() + OVERLAY_RELEASE_MS,
        timeout: () =>
          new KiabError(`network ${name} is still in use by a swarm task ${OVERLAY_RELEASE_MS / 1000} s after its containers went`, { cause: lastError }),
      },
    );
  }

  async listVolumes(labels: Record<string, string>): Promise<VolumeInfo[]> {
    const result = await this.call('a volume listing', (abortSignal) => this.docker.listVolumes({ filters: labelFilter(labels), abortSignal }));
    return (result.Volumes ?? []).map((volume) => ({ name: volume.Name, labels: volume.Labels ?? {} }));
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.docker.createVolume({ Name: name, Labels: labels });
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.call(`the removal of volume ${name}`, (abortSignal) => this.docker.getVolume(name).remove({ force: true, abortSignal }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async exec(name: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    // The command's own run is bounded by its caller (its signal, its wait's deadline); the requests that
    // set it up and read its exit code by theirs.
    const exec = await this.call(`an exec in ${name}`, (abortSignal) =>
      this.docker.getContainer(name).exec({
        abortSignal,
        Cmd: command,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: options.stdin !== undefined,
        Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
      }),
    );
    const stream = (await this.call(`an exec in ${name}`, () => exec.start({ hijack: true, stdin: options.stdin !== undefined }))) as unknown as Readable &
      NodeJS.WritableStream;
    const output = collectDemuxed(this.docker.modem, stream);
    if (options.stdin instanceof Readable) options.stdin.pipe(stream);
    else if (options.stdin !== undefined) stream.end(options.stdin);
    const onAbort = (): void => {
      (stream as Readable).destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // An abort while the exec was being set up fired before we listened.
    if (options.signal?.aborted) onAbort();
    try {
      const { stdout, stderr } = await output.catch((error: unknown) => {
        throw options.signal?.aborted ? new AbortedError() : error;
      });
      // A stream cut by Ctrl-C ends like a finished one: its result must not pass for the command's.
      throwIfAborted(options.signal);
      const inspected = await this.call(`an exec in ${name}`, (abortSignal) => exec.inspect({ abortSignal }));
      return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async execAttached(name: string, command: string[], io: AttachedIo): Promise<number> {
    const exec = await this.call(`an exec in ${name}`, (abortSignal) =>
      this.docker.getContainer(name).exec({
        abortSignal,
        Cmd: command,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: io.tty,
        Env: io.size ? [`COLUMNS=${io.size.columns}`, `LINES=${io.size.rows}`] : [],
      }),
    );
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: io.tty })) as unknown as Readable & NodeJS.WritableStream;
    if (io.tty) {
      stream.pipe(io.stdout);
      const resize = (size: { rows: number; columns: number }): void => void exec.resize({ h: size.rows, w: size.columns }).catch(() => undefined);
      if (io.size) resize(io.size);
      io.onResize?.(resize);
    } else {
      this.docker.modem.demuxStream(stream, io.stdout, io.stderr);
    }
    io.stdin.pipe(stream);
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    io.stdin.unpipe(stream);
    const inspected = await this.call(`an exec in ${name}`, (abortSignal) => exec.inspect({ abortSignal }));
    return inspected.ExitCode ?? 1;
  }

  async writeFiles(name: string, files: ContainerFile[]): Promise<void> {
    const archive = pack();
    for (const file of files) {
      const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
      archive.entry({ name: file.path.replace(/^\/+/, ''), mode: file.mode ?? 0o644, mtime: new Date() }, content);
    }
    archive.finalize();
    await this.call(`a file copy into ${name}`, (abortSignal) =>
      this.docker.getContainer(name).putArchive(archive as unknown as NodeJS.ReadableStream, { path: '/', abortSignal }),
    );
  }

  async readFile(name: string, path: string): Promise<string | undefined> {
    let tar: Readable;
    try {
      tar = (await this.call(`a file copy out of ${name}`, (abortSignal) =>
        this.docker.getContainer(name).getArchive({ path, abortSignal }),
      )) as unknown as Readable;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const chunks: Buffer[] = [];
    const entries = extract();
    entries.on('entry', (header, stream, next) => {
      if (header.type === 'file') stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', next);
      stream.resume();
    });
    await withinDeadline(this.endpoint, `a file copy out of ${name}`, CALL_MS, () => pipeline(tar, entries));
    return Buffer.concat(chunks).toString();
  }

  async waitForLog(name: string, pattern: RegExp, options: { sinceSeconds: number; timeoutMs: number; signal?: AbortSignal }): Promise<string> {
    const container = this.docker.getContainer(name);
    const { Config } = await this.call(`an inspect of ${name}`, (abortSignal) => container.inspect({ abortSignal }));
    // The follow itself ends at the caller's timeoutMs below.
    const stream = (await this.call(`the console of ${name}`, () =>
      container.logs({ follow: true, stdout: true, stderr: true, since: options.sinceSeconds }),
    )) as unknown as Readable;
    const lines = new PassThroughLines();
    if (Config.Tty) stream.on('data', (chunk: Buffer) => lines.push(chunk));
    else this.docker.modem.demuxStream(stream, lines.writable(), lines.writable());
    return new Promise<string>((resolve, reject) => {
      const finish = (error?: Error, line?: string): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        stream.destroy();
        if (error) reject(error);
        else resolve(line ?? '');
      };
      const onAbort = (): void => finish(new AbortedError());
      const timer = setTimeout(
        () => finish(new Error(`no line matching ${pattern} from ${name} within ${options.timeoutMs} ms; last output: ${lines.tail()}`)),
        options.timeoutMs,
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      lines.onLine = (line) => {
        if (pattern.test(line)) finish(undefined, line);
      };
      stream.once('end', () => finish(new KiabError(`${name} stopped before printing a line matching ${pattern}; last output: ${lines.tail()}`)));
      // The engine restarting or the connection breaking mid-wait is a one-line error, not a crash.
      stream.once('error', (error: Error) => finish(new KiabError(`lost the console of ${name}: ${error.message.split('\n')[0]}`, { cause: error })));
    });
  }

  async pauseContainer(name: string): Promise<void> {
    await this.call(`the pause of ${name}`, (abortSignal) => this.docker.getContainer(name).pause({ abortSignal }));
  }

  async unpauseContainer(name: string): Promise<void> {
    try {
      await this.call(`the unpause of ${name}`, (abortSignal) => this.docker.getContainer(name).unpause({ abortSignal }));
    } catch (error) {
      // 409: not paused (already thawed by someone else) is the state we want.
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    }
  }

  async commitContainer(name: string, ref: string, labels: Record<string, string>): Promise<void> {
    const [repo, tag] = splitImageRef(ref);
    // Callers pause first so that several machines are captured at one instant; the engine must not unpause.
    await this.call(
      `the commit of ${name}`,
      (abortSignal) =>
        this.docker
          .getContainer(name)
          .commit({ repo, tag, pause: false, changes: Object.entries(labels).map(([key, value]) => `LABEL ${key}=${JSON.stringify(value)}`), abortSignal }),
      FILESYSTEM_MS,
    );
  }

  async copyVolumes(copies: VolumeCopy[], helper: { image: string; labels: Record<string, string> }): Promise<void> {
    if (copies.length === 0) return;
    await Promise.all(
      copies.map((copy) =>
        this.call(`the creation of volume ${copy.to}`, (abortSignal) => this.docker.createVolume({ Name: copy.to, Labels: copy.labels, abortSignal })),
      ),
    );
    // Volume N is mounted at /from/N and its copy at /to/N, so one cp copies each into its own: a machine's
    // volumes cost one helper start, the slow part of a copy on a busy engine, not one each.
    const container = await this.call('the creation of a volume copier', (abortSignal) =>
      this.docker.createContainer({
        abortSignal,
        Image: helper.image,
        Entrypoint: ['cp', '-a', '/from/.', '/to/'],
        Cmd: [],
        Labels: helper.labels,
        HostConfig: {
          Mounts: copies.flatMap((copy, index) => [
            { Type: 'volume' as const, Source: copy.from, Target: `/from/${index}`, ReadOnly: true },
            { Type: 'volume' as const, Source: copy.to, Target: `/to/${index}` },
          ]),
          NetworkMode: 'none',
        },
      }),
    );
    try {
      await this.runToEnd(container, `copying volumes ${copies.map((copy) => `${copy.from} to ${copy.to}`).join(', ')}`);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async bakeVolume(
    base: string,
    volume: string,
    path: string,
    ref: string,
    labels: { helper: Record<string, string>; image: Record<string, string> },
  ): Promise<void> {
    const { Config: baseConfig } = await this.call(`an inspect of ${base}`, () => this.docker.getImage(base).inspect());
    const helper = await this.call('the creation of a volume copier', (abortSignal) =>
      this.docker.createContainer({
        abortSignal,
        Image: base,
        Entrypoint: ['cp', '-a', '/kiab-volume/.', `${path}/`],
        Cmd: [],
        Labels: labels.helper,
        HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/kiab-volume', ReadOnly: true }], NetworkMode: 'none' },
      }),
    );
    try {
      await this.runToEnd(helper, `copying volume ${volume} into ${ref}`);
      const [repo, tag] = splitImageRef(ref);
      // Labels a commit cannot drop are set empty, so that the image does not claim to be the helper.
      const cleared = Object.fromEntries(Object.keys(labels.helper).map((key) => [key, '']));
      await this.call(
        `the commit of ${ref}`,
        (abortSignal) =>
          helper.commit({
            _query: { container: helper.id, repo, tag },
            _body: { Entrypoint: baseConfig.Entrypoint, Cmd: baseConfig.Cmd, Labels: { ...cleared, ...labels.image } },
            abortSignal,
          }),
        FILESYSTEM_MS,
      );
    } finally {
      await helper.remove({ force: true }).catch(() => undefined);
    }
  }

  async copyFileFromImage(image: string, path: string, target: string, labels: Record<string, string>): Promise<void> {
    // Created, never started: the engine's archive endpoint reads the file from the image's layers.
    const holder = await this.call(`the creation of a reader of ${image}`, (abortSignal) =>
      this.docker.createContainer({ Image: image, Entrypoint: ['/kiab-never-runs'], Cmd: [], Labels: labels, NetworkDisabled: true, abortSignal }),
    );
    try {
      const archive = (await this.call(`a file copy from ${image}`, () => holder.getArchive({ path }))) as Readable;
      idleDeadline(archive, this.endpoint, `a file copy from ${image}`, STREAM_IDLE_MS);
      const entries = extract();
      let written = false;
      entries.on('entry', (header, body, next) => {
        if (header.type !== 'file' || written) {
          body.on('end', next).resume();
          return;
        }
        written = true;
        pipeline(body, createWriteStream(target, { mode: 0o755 })).then(
          () => next(),
          (error: Error) => entries.destroy(error),
        );
      });
      await pipeline(archive, entries);
      if (!written) throw new Error(`${path} in ${image} is not a regular file`);
    } finally {
      await holder.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Starts a helper container and waits for it to exit; a failure says what it was doing, with its output's tail. */
  private async runToEnd(helper: Docker.Container, what: string): Promise<void> {
    await this.call(what, (abortSignal) => helper.start({ abortSignal }));
    const { StatusCode } = (await this.call(what, (abortSignal) => helper.wait({ abortSignal }), FILESYSTEM_MS)) as { StatusCode: number };
    if (StatusCode !== 0) {
      const logs = (await this.call(what, (abortSignal) => helper.logs({ stdout: true, stderr: true, abortSignal }))).toString().trim();
      throw new Error(`${what} failed (${StatusCode}): ${logs.slice(-300)}`);
    }
  }

  async listImages(labels: Record<string, string>): Promise<ImageInfo[]> {
    const images = await this.call('an image listing', (abortSignal) => this.docker.listImages({ filters: labelFilter(labels), abortSignal }));
    return images.map((image) => ({
      id: image.Id,
      tags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
      labels: image.Labels ?? {},
      createdAt: new Date(image.Created * 1000),
      sizeBytes: image.Size,
    }));
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.call(`the removal of image ${ref}`, (abortSignal) => this.docker.getImage(ref).remove({ force: true, abortSignal }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async saveImages(refs: string[]): Promise<Readable> {
    // GET /images/get?names=a&names=b; the typings lack this call though dockerode has it.
    const withGetImages = this.docker as unknown as { getImages(options: { names: string[] }): Promise<Readable> };
    // The stream's reader watches it for stalls (image-load.ts).
    return this.call(`a save of ${refs.join(', ')}`, () => withGetImages.getImages({ names: refs }));
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.call(`an inspect of ${ref}`, () => this.docker.getImage(ref).inspect());
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async pullImage(ref: string, onProgress?: (line: string) => void): Promise<void> {
    const stream = await this.call(`the pull of ${ref}`, () => this.docker.pull(ref));
    idleDeadline(stream, this.endpoint, `the pull of ${ref}`, STREAM_IDLE_MS);
    await followProgress(this.docker, stream, onProgress);
  }

  async tagImage(source: string, target: string): Promise<void> {
    const [repo, tag] = splitImageRef(target);
    await this.call(`the tag ${target}`, (abortSignal) => this.docker.getImage(source).tag({ repo, tag, abortSignal }));
  }

  async buildImage(options: BuildOptions): Promise<void> {
    const context = pack();
    for (const file of options.files) context.entry({ name: file.path, mode: file.mode ?? 0o644, mtime: new Date(0) }, file.content);
    context.finalize();
    const stream = await this.call(`the build of ${options.tag}`, () =>
      this.docker.buildImage(context as unknown as NodeJS.ReadableStream, {
        t: options.tag,
        buildargs: options.buildArgs,
        labels: options.labels,
        rm: true,
        forcerm: true,
      }),
    );
    idleDeadline(stream, this.endpoint, `the build of ${options.tag}`, STREAM_IDLE_MS);
    await followProgress(this.docker, stream, options.onProgress);
  }

  async importImage(tar: Readable, ref: string): Promise<void> {
    const [repo, tag] = splitImageRef(ref);
    // The request stays open while the tar is sent: its answer comes once the engine has read it all.
    const stream = await this.call(`the import of ${ref}`, () => this.docker.importImage(tar as unknown as string, { repo, tag }), FILESYSTEM_MS);
    idleDeadline(stream, this.endpoint, `the import of ${ref}`, STREAM_IDLE_MS);
    await followProgress(this.docker, stream);
  }
}

/** Turns chunks into lines, keeping the last few for error messages. */
class PassThroughLines {
  onLine: (line: string) => void = () => undefined;
  private partial = '';
  private readonly recent: string[] = [];

  push(chunk: Buffer): void {
    // Strip terminal colour codes that systemd writes on a TTY.
    // eslint-disable-next-line no-control-regex
    const text = this.partial + chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.recent.push(line);
      if (this.recent.length > 5) this.recent.shift();
      this.onLine(line);
    }
  }

  writable(): NodeJS.WritableStream {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      write(chunk: Buffer) {
        self.push(chunk);
        return true;
      },
      end() {
        return this;
      },
      on() {
        return this;
      },
      once() {
        return this;
      },
      emit() {
        return false;
      },
    } as unknown as NodeJS.WritableStream;
  }

  tail(): string {
    return (
      this.recent
        .map((line) => line.trim())
        .filter(Boolean)
        .slice(-3)
        .join(' | ') || '(none)'
    );
  }
}
