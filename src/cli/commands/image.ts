import type { Command } from 'commander';
import { buildImages } from '../../cluster/lifecycle/images.js';
import { loadImages } from '../../cluster/image-load.js';
import { validateClusterName } from './shared.js';
import { DEFAULT_BASE_IMAGE } from '../../images/index.js';
import { UsageError } from '../../errors.js';
import { printJson } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

export function registerImage(program: Command, runtime: Runtime): void {
  const image = program.command('image').description("kiab's machine and box images");
  image
    .command('build')
    .description('build the node and box images (up builds missing ones by itself)')
    .option('--base <image>', `base image to build on (default: ${DEFAULT_BASE_IMAGE}, or a debootstrapped one when it cannot be pulled)`)
    .option('--base-from-debootstrap', 'make the base from Debian packages with debootstrap: needs no image registry')
    .option('--force', 'rebuild even when the images exist')
    .addOption(outputOption())
    .action(async (flags: { base?: string; baseFromDebootstrap?: boolean; force?: boolean }, command: Command) => {
      if (flags.base && flags.baseFromDebootstrap) throw new UsageError('--base: give either --base or --base-from-debootstrap, not both');
      const result = await buildImages(runtime.provider(), runtime.reporter(), {
        ...(flags.base ? { image: flags.base } : {}),
        ...(flags.baseFromDebootstrap ? { fromDebootstrap: true } : {}),
        ...(flags.force ? { force: true } : {}),
      });
      if (outputOf(command) === 'json') printJson(result);
      else process.stdout.write(`base  ${result.base}\n${result.images.map((ref) => `built ${ref}`).join('\n')}\n`);
    });

  image
    .command('load')
    .description('stream images from the host engine (or an archive) into the containerd of every machine, in parallel')
    .argument('[images...]', 'images in the host engine')
    .option('--cluster <name>', 'cluster', (value: string) => validateClusterName(value, '--cluster'), 'kiab')
    .option('--nodes <nodes>', 'only these machines, comma-separated (e.g. worker-0,worker-1)')
    .option('--archive <file>', 'load a tarball made by docker save instead')
    .addOption(outputOption())
    .action(async (images: string[], flags: { cluster: string; nodes?: string; archive?: string }, command: Command) => {
      if (flags.archive && images.length > 0) throw new UsageError('--archive: give either image names or --archive, not both');
      const result = await loadImages({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        cluster: flags.cluster,
        signal: runtime.signal,
        images,
        ...(flags.archive ? { archive: flags.archive } : {}),
        ...(flags.nodes
          ? {
              nodes: flags.nodes
                .split(',')
                .map((node) => node.trim())
                .filter(Boolean),
            }
          : {}),
      });
      if (outputOf(command) === 'json') printJson(result);
      else process.stdout.write(`loaded ${(result.bytes / 2 ** 20).toFixed(1)} MiB into ${result.nodes.length} machines in ${result.seconds.toFixed(1)}s\n`);
    });
}
