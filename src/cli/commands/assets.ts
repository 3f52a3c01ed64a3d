import { Option, type Command } from 'commander';
import { buildAssets, cacheRoot, defaultVersionOf, importAssets, listCachedAssets, pullAssets, type AssetSet } from '../../cluster/assets.js';
import type { Arch } from '../../assets/cache.js';
import { UsageError } from '../../errors.js';
import { printJson, table } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

function parseArches(list: string): Arch[] {
  const arches = list.split(',').map((arch) => arch.trim());
  for (const arch of arches) if (arch !== 'amd64' && arch !== 'arm64') throw new UsageError(`--arch: "${arch}" is not amd64 or arm64`);
  return arches as Arch[];
}

function printSets(command: Command, sets: AssetSet[], verb: (set: AssetSet) => string): void {
  if (outputOf(command) === 'json') return printJson(sets);
  for (const set of sets) process.stdout.write(`${verb(set)} ${set.manifest.distribution} ${set.manifest.version} assets in ${set.dir}\n`);
}

export function registerAssets(program: Command, runtime: Runtime): void {
  const assets = program.command('assets').description('Kubernetes binaries and images in the local, verified cache');

  assets
    .command('build')
    .description('compile Kubernetes and the addons from their Go modules (needs Go and the Go module proxy) into the asset cache')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['kubeadm']).default('kubeadm'))
    .option('--k8s-version <version>', 'Kubernetes version', defaultVersionOf('kubeadm'))
    .option('--force', 'rebuild even when the cache holds a verified build')
    .addOption(outputOption())
    .action(async (flags: { k8s: 'kubeadm'; k8sVersion: string; force?: boolean }, command: Command) => {
      const sets = await buildAssets({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        distribution: flags.k8s,
        version: flags.k8sVersion,
        force: flags.force === true,
        signal: runtime.signal,
      });
      printSets(command, sets, (set) => (set.reused ? 'verified' : 'built'));
    });

  assets
    .command('pull')
    .description('download release assets, verify their checksums and keep them in the cache (then up works offline)')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['k3s', 'kubeadm']).default('k3s'))
    .option('--k8s-version <version>', `version (default: ${defaultVersionOf('k3s')} for k3s, ${defaultVersionOf('kubeadm')} for kubeadm)`)
    .option('--arch <list>', 'k3s: architectures, comma-separated', 'amd64,arm64')
    .addOption(outputOption())
    .action(async (flags: { k8s: 'k3s' | 'kubeadm'; k8sVersion?: string; arch: string }, command: Command) => {
      const sets = await pullAssets({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        distribution: flags.k8s,
        arches: parseArches(flags.arch),
        signal: runtime.signal,
        ...(flags.k8sVersion ? { version: flags.k8sVersion } : {}),
      });
      printSets(command, sets, (set) => (set.reused ? 'verified' : 'downloaded and verified'));
    });

  assets
    .command('import')
    .description('take release files from disk (air-gapped copy); each must match the sums file given with it')
    .argument('<files...>', 'k3s, k3s-arm64, sha256sum-ARCH.txt, k3s-airgap-images-ARCH.tar.zst')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['k3s']).default('k3s'))
    .option('--k8s-version <version>', 'the version these files are', defaultVersionOf('k3s'))
    .addOption(outputOption())
    .action(async (files: string[], flags: { k8s: 'k3s'; k8sVersion: string }, command: Command) => {
      printSets(command, await importAssets(flags.k8s, flags.k8sVersion, files), () => 'imported and verified');
    });

  assets
    .command('list')
    .alias('ls')
    .description('show what is cached and whether it matches its checksums')
    .addOption(outputOption())
    .action(async (_flags: unknown, command: Command) => {
      const rows = await listCachedAssets();
      if (outputOf(command) === 'json') return printJson(rows);
      if (rows.length === 0) return void process.stdout.write(`no assets in ${cacheRoot()}\n`);
      process.stdout.write(
        `${table(
          ['Distribution', 'Version', 'Arch', 'Source', 'Verified', 'Size', 'Path'],
          rows.map((row) => [
            row.distribution,
            row.version,
            row.arch,
            row.source,
            row.verified ? 'yes' : `NO: ${row.problem}`,
            `${(row.bytes / 2 ** 20).toFixed(0)} MiB`,
            row.path,
          ]),
        )}\n`,
      );
    });
}
