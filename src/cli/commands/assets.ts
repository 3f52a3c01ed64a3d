import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { cacheRoot, readManifest, verifyAssets, type Arch } from '../../assets/cache.js';
import { DEFAULT_K3S_VERSION } from '../../assets/k3s.js';
import { importK3sAssets, pullK3sAssets } from '../../assets/k3s-store.js';
import { runStep } from '../../cluster/reporter.js';
import { buildKubeadmAssets, pullKubeadmAssets } from '../../cluster/assets.js';
import { DEFAULT_KUBEADM_VERSION } from '../../distribution/kubeadm/assets.js';
import { UsageError } from '../../errors.js';
import { printJson, table } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

interface AssetRow {
  distribution: string;
  version: string;
  arch: string;
  source: string;
  verified: boolean;
  problem: string | null;
  files: number;
  bytes: number;
  path: string;
}

async function listAssets(): Promise<AssetRow[]> {
  const rows: AssetRow[] = [];
  const root = join(cacheRoot(), 'assets');
  for (const distribution of await readdir(root).catch(() => [] as string[])) {
    for (const version of await readdir(join(root, distribution)).catch(() => [] as string[])) {
      for (const platform of await readdir(join(root, distribution, version)).catch(() => [] as string[])) {
        const dir = join(root, distribution, version, platform);
        const manifest = await readManifest(dir);
        let problem: string | null = manifest ? null : 'no manifest';
        if (manifest) await verifyAssets(dir, manifest).catch((error: Error) => (problem = error.message));
        rows.push({
          distribution,
          version,
          arch: platform.replace(/^linux-/, ''),
          source: manifest?.source ?? '-',
          verified: problem === null,
          problem,
          files: Object.keys(manifest?.files ?? {}).length,
          bytes: Object.values(manifest?.files ?? {}).reduce((total, file) => total + file.size, 0),
          path: dir,
        });
      }
    }
  }
  return rows;
}

export function registerAssets(program: Command, runtime: Runtime): void {
  const assets = program.command('assets').description('Kubernetes binaries and images in the local, verified cache');

  assets
    .command('build')
    .description('compile Kubernetes from its Go modules (needs Go and the Go module proxy) into the asset cache')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['kubeadm']).default('kubeadm'))
    .option('--k8s-version <version>', 'Kubernetes version', DEFAULT_KUBEADM_VERSION)
    .option('--force', 'rebuild even when the cache holds a verified build')
    .addOption(outputOption())
    .action(async (flags: { k8s: string; k8sVersion: string; force?: boolean }, command: Command) => {
      if (!/^v\d+\.\d+\.\d+$/.test(flags.k8sVersion)) throw new UsageError(`--k8s-version: "${flags.k8sVersion}" must look like ${DEFAULT_KUBEADM_VERSION}`);
      const result = await buildKubeadmAssets({ provider: runtime.provider(), reporter: runtime.reporter(), version: flags.k8sVersion, signal: runtime.signal, ...(flags.force ? { force: true } : {}) });
      if (outputOf(command) === 'json') return printJson({ dir: result.dir, reused: result.reused, manifest: result.manifest });
      process.stdout.write(`${result.reused ? 'verified' : 'built'} kubeadm ${flags.k8sVersion} assets in ${result.dir}\n`);
    });

  assets
    .command('pull')
    .description('download release assets, verify their checksums and keep them in the cache (then up works offline)')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['k3s', 'kubeadm']).default('k3s'))
    .option('--k8s-version <version>', `version (default: ${DEFAULT_K3S_VERSION} for k3s, ${DEFAULT_KUBEADM_VERSION} for kubeadm)`)
    .option('--arch <list>', 'k3s: architectures, comma-separated', 'amd64,arm64')
    .addOption(outputOption())
    .action(async (flags: { k8s: 'k3s' | 'kubeadm'; k8sVersion?: string; arch: string }, command: Command) => {
      if (flags.k8s === 'kubeadm') {
        const version = flags.k8sVersion ?? DEFAULT_KUBEADM_VERSION;
        if (!/^v\d+\.\d+\.\d+$/.test(version)) throw new UsageError(`--k8s-version: "${version}" must look like ${DEFAULT_KUBEADM_VERSION}`);
        const result = await pullKubeadmAssets({ provider: runtime.provider(), reporter: runtime.reporter(), version, signal: runtime.signal });
        if (outputOf(command) === 'json') return printJson({ dir: result.dir, reused: result.reused, manifest: result.manifest });
        return void process.stdout.write(`${result.reused ? 'verified' : 'downloaded and verified'} kubeadm ${version} assets in ${result.dir}\n`);
      }
      const k3sVersion = flags.k8sVersion ?? DEFAULT_K3S_VERSION;
      const arches = flags.arch.split(',').map((arch) => arch.trim());
      for (const arch of arches) if (arch !== 'amd64' && arch !== 'arm64') throw new UsageError(`--arch: "${arch}" is not amd64 or arm64`);
      const reporter = runtime.reporter();
      const pulled = [];
      for (const arch of arches as Arch[]) {
        pulled.push(await runStep(reporter, `k3s ${k3sVersion} ${arch}`, (progress) => pullK3sAssets(k3sVersion, arch, (detail) => progress.update(detail), runtime.signal)));
      }
      if (outputOf(command) === 'json') return printJson(pulled.map((assets) => ({ dir: assets.dir, manifest: assets.manifest })));
      for (const assets of pulled) process.stdout.write(`verified ${assets.dir}\n`);
    });

  assets
    .command('import')
    .description('take release files from disk (air-gapped copy); each must match the sums file given with it')
    .argument('<files...>', 'k3s, k3s-arm64, sha256sum-ARCH.txt, k3s-airgap-images-ARCH.tar.zst')
    .addOption(new Option('--k8s <distribution>', 'distribution').choices(['k3s']).default('k3s'))
    .option('--k8s-version <version>', 'the version these files are', DEFAULT_K3S_VERSION)
    .addOption(outputOption())
    .action(async (files: string[], flags: { k8sVersion: string }, command: Command) => {
      const imported = await importK3sAssets(flags.k8sVersion, files);
      if (outputOf(command) === 'json') return printJson(imported.map((assets) => ({ dir: assets.dir, manifest: assets.manifest })));
      for (const assets of imported) process.stdout.write(`imported and verified ${assets.dir}\n`);
    });

  assets
    .command('list')
    .alias('ls')
    .description('show what is cached and whether it matches its checksums')
    .addOption(outputOption())
    .action(async (_flags: unknown, command: Command) => {
      const rows = await listAssets();
      if (outputOf(command) === 'json') return printJson(rows);
      if (rows.length === 0) return void process.stdout.write(`no assets in ${cacheRoot()}\n`);
      process.stdout.write(`${table(['Distribution', 'Version', 'Arch', 'Source', 'Verified', 'Size', 'Path'], rows.map((row) => [row.distribution, row.version, row.arch, row.source, row.verified ? 'yes' : `NO: ${row.problem}`, `${(row.bytes / 2 ** 20).toFixed(0)} MiB`, row.path]))}\n`);
    });
}
