import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { KiabError, UsageError } from '../errors.js';
import type { Provider } from '../provider/types.js';
import { withClusterLock } from './lock.js';
import { parseMachineName } from '../names.js';
import { run } from '../provider/run.js';
import { loadCluster } from './context.js';
import { runStep, type Reporter } from '../reporter.js';

export interface ImageLoadResult {
  cluster: string;
  images: string[];
  nodes: string[];
  bytes: number;
  seconds: number;
}

/** Counts bytes flowing through, for the throughput figure. */
function counting(source: Readable): { stream: PassThrough; bytes: () => number } {
  let total = 0;
  const stream = new PassThrough({ highWaterMark: 4 << 20 });
  source.on('data', (chunk: Buffer) => (total += chunk.length));
  source.pipe(stream);
  return { stream, bytes: () => total };
}

/**
 * Streams images into the containerd of every selected machine at once: one `save` from the engine (or one
 * read of an archive) is fanned out to an import per machine, so no temporary tar is written per node and
 * the slowest machine sets the pace.
 */
export async function loadImages(options: { provider: Provider; cluster: string; images: string[]; archive?: string; nodes?: string[]; reporter: Reporter }): Promise<ImageLoadResult> {
  const { provider, cluster, reporter } = options;
  if (options.images.length === 0 && !options.archive) throw new UsageError('IMAGE: name at least one image, or pass --archive FILE');
  await provider.ping();
  return withClusterLock(cluster, async () => {
    const loaded = await loadCluster(provider, cluster);
    const all = loaded.observed.machines.map((machine) => machine.container);
    const selected = options.nodes?.length ? options.nodes.map((node) => all.find((container) => container.name === parseMachineName(node, cluster)?.name) ?? node) : all;
    for (const target of selected) {
      if (typeof target === 'string') throw new UsageError(`--nodes: ${target} is not a machine of cluster ${cluster}`);
      if (target.state !== 'running') throw new KiabError(`node ${target.name} is ${target.state}`, { hint: `start it with \`kiab node start ${target.name}\`` });
    }
    const machines = selected.filter((target): target is Exclude<typeof target, string> => typeof target !== 'string');
    for (const image of options.images) if (!(await provider.imageExists(image))) throw new UsageError(`IMAGE: ${image} is not in the local engine`, `build or pull it first (docker pull ${image})`);
    if (options.archive) await stat(options.archive).catch(() => { throw new UsageError(`--archive: cannot read ${options.archive}`); });

    const start = performance.now();
    const source = options.archive ? createReadStream(options.archive, { highWaterMark: 4 << 20 }) : await provider.saveImages(options.images);
    const { stream, bytes } = counting(source);
    const ctr = loaded.distribution.ctr();
    await runStep(reporter, `load ${options.archive ?? options.images.join(', ')} into ${machines.length} machines`, async (progress) => {
      const ticker = setInterval(() => progress.update(`${(bytes() / 2 ** 20).toFixed(0)} MiB`), 250);
      try {
        await Promise.all(
          machines.map((machine) => {
            const branch = new PassThrough({ highWaterMark: 4 << 20 });
            stream.pipe(branch);
            return run(provider, machine.name, [...ctr, 'images', 'import', '-'], { stdin: branch, what: 'importing images' });
          }),
        );
      } finally {
        clearInterval(ticker);
      }
    });
    return { cluster, images: options.images, nodes: machines.map((machine) => machine.name), bytes: bytes(), seconds: (performance.now() - start) / 1000 };
  });
}
