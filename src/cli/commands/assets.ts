import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import { hostArch, type Arch } from '../../assets/cache.js';
import {
  buildAssets,
  cacheRoot,
  defaultVersionOf,
  exportAssets,
  importAssets,
  listCachedAssets,
  pullAssets,
  removeCachedAssets,
  type AssetSet,
} from '../../cluster/assets.js';
import { KiabError, UsageError } from '../../errors.js';
import { printJson, table } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

function parseArches(list: string): Arch[] {
  const arches = list.split(',').map((arch) => arch.trim());
  for (const arch of arches) if (arch !== 'amd64' && arch !== 'arm64') throw new UsageError(`--arch: "${arch}" is not amd64 or arm64`);
  return arches as Arch[];
}

function parseSha256(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new UsageError(`--sha256: "${value}" is not a sha256 sum (64 hex digits)`);
  return value.toLowerCase();
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
    .option(
      '--k8s-version <version>',
      `Kubernetes version: a release, or a minor such as 1.36 for its newest patch kiab knows (default: ${defaultVersionOf('kubeadm')})`,
    )
    .option('--force', 'rebuild even when the cache holds a verified build')
    .option('--conformance', 'also the conformance suite and its test images, for `kiab conformance`')
    .addOption(outputOption())
    .action(async (flags: { k8s: 'kubeadm'; k8sVersion: string; force?: boolean; conformance?: boolean }, command: Command) => {
      const sets = await buildAssets({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        distribution: flags.k8s,
        version: flags.k8sVersion,
        force: flags.force === true,
        conformance: flags.conformance === true,
        signal: runtime.signal,
      });
      printSets(command, sets, (set) => (set.reused ? 'verified' : 'built'));
    });

  assets
    .command('pull')
    .description('download release assets, verify their checksums and keep them in the cache (then up works offline)')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['kubeadm', 'k3s']).default('kubeadm'))
    .option('--k8s-version <version>', `version (default: ${defaultVersionOf('kubeadm')} for kubeadm, ${defaultVersionOf('k3s')} for k3s)`)
    .option('--arch <list>', 'k3s: architectures, comma-separated', 'amd64,arm64')
    .option('--conformance', "kubeadm: also upstream's conformance image and test images, for `kiab conformance`")
    .addOption(outputOption())
    .action(async (flags: { k8s: 'kubeadm' | 'k3s'; k8sVersion?: string; arch: string; conformance?: boolean }, command: Command) => {
      const sets = await pullAssets({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        distribution: flags.k8s,
        arches: parseArches(flags.arch),
        conformance: flags.conformance === true,
        signal: runtime.signal,
        ...(flags.k8sVersion ? { version: flags.k8sVersion } : {}),
      });
      printSets(command, sets, (set) => (set.reused ? 'verified' : 'downloaded and verified'));
    });

  assets
    .command('import')
    .description(
      'take assets from disk (air-gapped copy): one archive from `kiab assets export`, or k3s release files; everything is checked before it enters the cache',
    )
    .argument('<files...>', 'a kiab asset archive (.tar, .tar.gz), or k3s, k3s-arm64, sha256sum-ARCH.txt, k3s-airgap-images-ARCH.tar.zst')
    .addOption(new Option('--k8s <distribution>', 'distribution of release files (an archive says its own)').choices(['k3s', 'kubeadm']))
    .option('--k8s-version <version>', `the version release files are (default ${defaultVersionOf('k3s')}; an archive says its own)`)
    .option('--sha256 <sum>', 'the archive must have this sha256 (as `kiab assets export` printed it)', parseSha256)
    .addOption(outputOption())
    .action(async (files: string[], flags: { k8s?: 'k3s' | 'kubeadm'; k8sVersion?: string; sha256?: string }, command: Command) => {
      const sets = await importAssets({
        files,
        reporter: runtime.reporter(),
        signal: runtime.signal,
        ...(flags.k8s ? { distribution: flags.k8s } : {}),
        ...(flags.k8sVersion ? { version: flags.k8sVersion } : {}),
        ...(flags.sha256 ? { sha256: flags.sha256 } : {}),
      });
      printSets(command, sets, () => 'imported and verified');
    });

  assets
    .command('export')
    .description('write one cached, verified set (binaries, images, checksums) into one archive for `kiab assets import` on machines without network')
    .argument('<file>', 'the archive to write: FILE.tar, or FILE.tar.gz (.tgz) to compress it')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['kubeadm', 'k3s']).default('kubeadm'))
    .option('--k8s-version <version>', `version (default: ${defaultVersionOf('kubeadm')} for kubeadm, ${defaultVersionOf('k3s')} for k3s)`)
    .option('--addons', "the addon set (ingress, storage, load balancer, metrics) that the distribution's clusters install, instead of its own set")
    .addOption(new Option('--arch <arch>', 'architecture').choices(['amd64', 'arm64']).default(hostArch(), "this host's"))
    .addOption(outputOption())
    .action(async (file: string, flags: { k8s: 'kubeadm' | 'k3s'; k8sVersion?: string; addons?: boolean; arch: Arch }, command: Command) => {
      const written = await exportAssets({
        reporter: runtime.reporter(),
        distribution: flags.k8s,
        ...(flags.addons ? { addons: true } : {}),
        arch: flags.arch,
        file,
        signal: runtime.signal,
        ...(flags.k8sVersion ? { version: flags.k8sVersion } : {}),
      });
      const { distribution, version, arch } = written.set.manifest;
      if (outputOf(command) === 'json') return printJson({ file: written.file, bytes: written.bytes, sha256: written.sha256, distribution, version, arch });
      process.stdout.write(
        `exported ${distribution} ${version} ${arch} assets to ${written.file} (${(written.bytes / 2 ** 20).toFixed(0)} MiB, sha256 ${written.sha256})\n`,
      );
      runtime.reporter().info(`on the other machine: kiab assets import --sha256 ${written.sha256} ${basename(written.file)}`);
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
          ['Distribution', 'Version', 'Arch', 'Origin', 'Made', 'Verified', 'Size', 'Path'],
          rows.map((row) => [
            row.distribution,
            row.version,
            row.arch,
            row.origin,
            row.createdAt?.slice(0, 10) ?? '-',
            row.verified ? 'yes' : `NO: ${row.problem}`,
            `${(row.bytes / 2 ** 20).toFixed(0)} MiB`,
            row.path,
          ]),
        )}\n`,
      );
    });

  assets
    .command('rm')
    .alias('remove')
    .description('remove one set from the cache (as `kiab assets list` names it)')
    .argument('<distribution>', 'kubeadm, k3s, conformance or addons')
    .argument('<version>', 'the version the set is for, as listed')
    .addOption(new Option('--arch <arch>', 'architecture').choices(['amd64', 'arm64']).default(hostArch()))
    .action(async (distribution: string, version: string, flags: { arch: Arch }) => {
      const removed = await removeCachedAssets({ distribution, version, arch: flags.arch });
      if (!removed) throw new KiabError(`no ${distribution} ${version} ${flags.arch} assets in ${cacheRoot()}`, { hint: 'see `kiab assets list`' });
      process.stdout.write(`removed ${removed}\n`);
    });
}
