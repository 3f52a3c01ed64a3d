import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { KiabError, RunError, UsageError } from '../errors.js';
import { parseMachineName } from '../names.js';
import { run } from '../provider/run.js';
import type { ContainerInfo, Provider } from '../provider/types.js';
import { runStep, type Reporter } from '../reporter.js';
import { loadCluster } from './context.js';
import { withClusterLock } from './lock.js';

export interface NodeLoadResult {
  node: string;
  loaded: boolean;
  /** Why it did not load: the import's own error, or that it stopped reading. */
  error: string | null;
}

export interface ImageLoadResult {
  cluster: string;
  images: string[];
  nodes: NodeLoadResult[];
  bytes: number;
  seconds: number;
}

/** An import that takes no byte for this long is stalled: it is stopped, so it holds back no other machine. */
function stallTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.KIAB_IMAGE_LOAD_STALL_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

/** Counts bytes flowing through, for the throughput figure; the branches read from the returned stream. */
function counting(source: Readable): { stream: PassThrough; bytes: () => number } {
  let total = 0;
  const stream = new PassThrough({ highWaterMark: 4 << 20 });
  source.on('data', (chunk: Buffer) => (total += chunk.length));
  source.pipe(stream);
  return { stream, bytes: () => total };
}

/** The machines to load into: all running ones, or those named (short or full names of this cluster). */
function selectMachines(cluster: string, all: ContainerInfo[], nodes: string[] | undefined): ContainerInfo[] {
  if (!nodes?.length) return all;
  return nodes.map((node) => {
    const machine = all.find((container) => container.name === parseMachineName(node, cluster)?.name);
    if (!machine) throw new UsageError(`--nodes: ${node} is not a machine of cluster ${cluster}`);
    return machine;
  });
}

async function checkArchive(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`--archive: cannot read ${path}`);
  if (!info.isFile()) throw new UsageError(`--archive: ${path} is not a file`);
  // A file this user may see but not read would fail only once every import has begun.
  const denied = await access(path, constants.R_OK).then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error.code ?? 'unreadable',
  );
  if (denied) throw new UsageError(`--archive: cannot read ${path} (${denied})`, 'check its permissions');
}

/**
 * One machine's import, fed from its own branch of the stream. A machine that fails or stops reading is cut
 * off (its branch unpiped, its exec aborted), so the others go on at their own pace.
 */
export async function importInto(
  provider: Provider,
  machine: string,
  ctr: string[],
  source: Readable,
  stallMs: number,
  signal: AbortSignal | undefined,
): Promise<NodeLoadResult> {
  let lastRead = Date.now();
  // Progress is seen where the import reads: chunks pass the small readable side only as fast as the import
  // takes them (a listener on the branch instead would start it flowing before the import is attached).
  const branch = new Transform({
    writableHighWaterMark: 4 << 20,
    readableHighWaterMark: 64 << 10,
    transform(chunk: Buffer, _encoding, done) {
      lastRead = Date.now();
      done(null, chunk);
    },
  });
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  // An abort before we listened fires no event (the source may have failed already).
  if (signal?.aborted) onAbort();
  let stalled: string | undefined;
  // Once all input is handed over, unpacking may take a while longer, but not for ever.
  const finishMs = stallMs * 5;
  const watchdog = setInterval(
    () => {
      const ended = branch.readableEnded;
      // A branch with nothing waiting in it is starved, not stalled: the fan-out pauses every branch while one
      // machine's buffer is full, and the machines that read are not to blame for that pause.
      if (!ended && branch.writableLength + branch.readableLength === 0) lastRead = Date.now();
      if (Date.now() - lastRead < (ended ? finishMs : stallMs)) return;
      stalled = ended ? `did not finish within ${Math.round(finishMs / 1000)}s after its input ended` : `took no data for ${Math.round(stallMs / 1000)}s`;
      controller.abort();
    },
    Math.min(1000, stallMs),
  );
  source.pipe(branch);
  try {
    await run(provider, machine, [...ctr, 'images', 'import', '-'], { stdin: branch, what: 'importing images', signal: controller.signal });
    return { node: machine, loaded: true, error: null };
  } catch (error) {
    if (signal?.aborted) throw error;
    const reason = stalled ? `${stalled} and was stopped` : error instanceof RunError ? error.message : (error as Error).message;
    return { node: machine, loaded: false, error: reason };
  } finally {
    clearInterval(watchdog);
    signal?.removeEventListener('abort', onAbort);
    source.unpipe(branch);
    branch.resume();
  }
}

/**
 * Streams images into the containerd of every selected machine at once: one `save` from the engine (or one
 * read of an archive) is fanned out to an import per machine, so no temporary tar is written per node.
 * Each machine's result is reported; any failure makes the whole command fail after the others finished.
 */
export async function loadImages(options: {
  provider: Provider;
  cluster: string;
  images: string[];
  archive?: string;
  nodes?: string[];
  reporter: Reporter;
  signal?: AbortSignal;
}): Promise<ImageLoadResult> {
  const { provider, cluster, reporter } = options;
  if (options.images.length === 0 && !options.archive) throw new UsageError('IMAGE: name at least one image, or pass --archive FILE');
  if (options.archive) await checkArchive(options.archive);
  await provider.ping();
  return withClusterLock(
    cluster,
    async () => {
      const loaded = await loadCluster(provider, cluster);
      const machines = selectMachines(
        cluster,
        loaded.observed.machines.map((machine) => machine.container),
        options.nodes,
      );
      for (const target of machines) {
        if (target.state !== 'running')
          throw new KiabError(`node ${target.name} is ${target.state}`, { hint: `start it with \`kiab node start ${target.name}\`` });
      }
      for (const image of options.images)
        if (!(await provider.imageExists(image)))
          throw new UsageError(`IMAGE: ${image} is not in the local engine`, `build or pull it first (docker pull ${image})`);

      const start = performance.now();
      const source = options.archive ? createReadStream(options.archive, { highWaterMark: 4 << 20 }) : await provider.saveImages(options.images);
      const { stream, bytes } = counting(source);
      // A source that fails mid-way (a read error, the engine's save breaking) ends every import, and is the error.
      let sourceFailure: Error | undefined;
      const sourceFailed = new AbortController();
      source.once('error', (error: Error) => {
        sourceFailure = error;
        sourceFailed.abort();
      });
      const importSignal = options.signal ? AbortSignal.any([options.signal, sourceFailed.signal]) : sourceFailed.signal;
      const ctr = loaded.distribution.ctr();
      const results = await runStep(
        reporter,
        `load ${options.archive ?? options.images.join(', ')} into ${machines.length === 1 ? machines[0]!.name : `${machines.length} machines`}`,
        async (progress) => {
          const ticker = setInterval(() => progress.update(`${(bytes() / 2 ** 20).toFixed(0)} MiB`), 250);
          try {
            const results = await Promise.all(machines.map((machine) => importInto(provider, machine.name, ctr, stream, stallTimeoutMs(), importSignal)));
            if (sourceFailure) throw sourceFailure;
            return results;
          } catch (error) {
            if (!sourceFailure || options.signal?.aborted) throw error;
            const code = (sourceFailure as NodeJS.ErrnoException).code;
            throw new KiabError(
              `cannot read ${options.archive ?? `the engine's save of ${options.images.join(', ')}`} (${code ?? sourceFailure.message.split('\n')[0]}); no machine loaded it`,
              { cause: sourceFailure },
            );
          } finally {
            clearInterval(ticker);
          }
        },
      );
      const failed = results.filter((result) => !result.loaded);
      if (failed.length > 0) {
        const loadedInto = results.length - failed.length;
        throw new KiabError(
          `loading into ${failed.map((result) => `${result.node} failed (${result.error})`).join('; ')}; loaded into ${loadedInto} of ${results.length} machines`,
          {
            hint: 'see the machine with `kiab exec NODE -- journalctl -u containerd`, then load again (images already there are kept)',
          },
        );
      }
      return { cluster, images: options.images, nodes: results, bytes: bytes(), seconds: (performance.now() - start) / 1000 };
    },
    { engine: provider.endpoint, reporter, ...(options.signal ? { signal: options.signal } : {}) },
  );
}
