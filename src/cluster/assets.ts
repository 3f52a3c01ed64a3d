import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { assetDir, cacheRoot, describeFile, hostArch, readManifest, verifyAssets, writeManifest, type AssetManifest } from '../assets/cache.js';
import { download } from '../assets/download.js';
import { buildKubernetesBinaries } from '../assets/kubebuild.js';
import { MACHINE_BINARIES } from '../distribution/kubeadm/assets.js';
import { KiabError } from '../errors.js';
import { LABEL } from '../labels.js';
import type { Provider } from '../provider/types.js';
import { kiabVersion } from '../version.js';
import { runStep, type Reporter } from './reporter.js';

/** How each control-plane image runs its binary: kubeadm's manifests call the command by name. */
const IMAGE_LAYOUT: Record<string, { path: string; entrypoint: string[] }> = {
  'kube-apiserver': { path: '/usr/local/bin/kube-apiserver', entrypoint: ['/usr/local/bin/kube-apiserver'] },
  'kube-controller-manager': { path: '/usr/local/bin/kube-controller-manager', entrypoint: ['/usr/local/bin/kube-controller-manager'] },
  'kube-scheduler': { path: '/usr/local/bin/kube-scheduler', entrypoint: ['/usr/local/bin/kube-scheduler'] },
  etcd: { path: '/usr/local/bin/etcd', entrypoint: ['/usr/local/bin/etcd'] },
  coredns: { path: '/coredns', entrypoint: ['/coredns'] },
  pause: { path: '/pause', entrypoint: ['/pause'] },
};

function capture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')}: ${err.trim()}`))));
  });
}

/** registry.k8s.io/etcd:3.6.5-0 -> etcd */
function componentOf(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1).split(':')[0]!;
}

/**
 * `kiab assets build --k8s kubeadm`: compiles Kubernetes (and etcd, CoreDNS, pause) from the Go modules,
 * turns the control-plane binaries into images under the names kubeadm expects, and stores binaries and
 * image archives with their checksums in the same cache layout a download fills.
 */
export async function buildKubeadmAssets(options: { provider: Provider; reporter: Reporter; version: string; force?: boolean; signal?: AbortSignal }): Promise<{ dir: string; manifest: AssetManifest; reused: boolean }> {
  const { provider, reporter, version } = options;
  if (!/^v\d+\.\d+\.\d+$/.test(version)) throw new KiabError(`--k8s-version: "${version}" must look like v1.34.4`, { exitCode: 2 });
  await provider.ping();
  const key = { distribution: 'kubeadm' as const, version, arch: hostArch() };
  const dir = assetDir(key);
  const existing = await readManifest(dir);
  if (existing && !options.force) {
    await verifyAssets(dir, existing);
    return { dir, manifest: existing, reused: true };
  }
  // Go's own caches make a second build of the same version a no-op; the output folder stays put for that.
  const buildBin = join(cacheRoot(), 'build', 'kubeadm', version, 'bin');
  await runStep(reporter, `compile Kubernetes ${version} from the Go modules`, (progress) => buildKubernetesBinaries(version, buildBin, (line) => progress.update(line), options.signal));

  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'images'), { recursive: true });
  for (const binary of MACHINE_BINARIES) await copyFile(join(buildBin, binary), join(dir, 'bin', binary));

  const refs = (await capture(join(buildBin, 'kubeadm'), ['config', 'images', 'list', '--kubernetes-version', version])).split('\n').map((line) => line.trim()).filter(Boolean);
  const images: Record<string, string> = {};
  await runStep(reporter, 'build control-plane images', async (progress) => {
    for (const ref of refs) {
      const component = componentOf(ref);
      const layout = IMAGE_LAYOUT[component];
      if (!layout) continue; // kube-proxy runs as a machine service, not from an image
      progress.update(ref);
      await provider.buildImage({
        tag: ref,
        files: [
          { path: 'Dockerfile', content: `FROM scratch\nCOPY ${component} ${layout.path}\nENV PATH=/usr/local/bin:/usr/bin:/bin\nENTRYPOINT ${JSON.stringify(layout.entrypoint)}\n` },
          { path: component, content: await readFile(join(buildBin, component)), mode: 0o755 },
        ],
        buildArgs: {},
        labels: { [LABEL.managed]: kiabVersion },
      });
      const file = `images/${component}.tar`;
      await pipeline(await provider.saveImages([ref]), createWriteStream(join(dir, file)));
      images[file] = ref;
    }
  });
  const missing = Object.keys(IMAGE_LAYOUT).filter((component) => !images[`images/${component}.tar`]);
  if (missing.length) throw new KiabError(`kubeadm ${version} lists no image for ${missing.join(', ')}`);

  const files: AssetManifest['files'] = {};
  for (const name of [...MACHINE_BINARIES.map((binary) => `bin/${binary}`), ...Object.keys(images)]) {
    const [relative, description] = await describeFile(dir, join(dir, name));
    files[relative] = description;
  }
  const manifest: AssetManifest = { distribution: 'kubeadm', version, arch: key.arch, source: 'build', createdAt: new Date().toISOString(), images, files };
  await writeManifest(dir, manifest);
  return { dir, manifest, reused: false };
}

/** Where Kubernetes releases come from; KIAB_K8S_RELEASE_URL points at a mirror. */
function kubernetesReleaseBase(): string {
  return (process.env.KIAB_K8S_RELEASE_URL ?? 'https://dl.k8s.io/release').replace(/\/+$/, '');
}

/**
 * `kiab assets pull --k8s kubeadm`: the official path. Binaries from the Kubernetes release site, each checked
 * against its published .sha256; control-plane images pulled by the engine and saved as archives. It ends in
 * the same cache layout as a build from source, so `up` cannot tell them apart.
 */
export async function pullKubeadmAssets(options: { provider: Provider; reporter: Reporter; version: string; signal?: AbortSignal }): Promise<{ dir: string; manifest: AssetManifest; reused: boolean }> {
  const { provider, reporter, version } = options;
  const arch = hostArch();
  const dir = assetDir({ distribution: 'kubeadm', version, arch });
  const existing = await readManifest(dir);
  if (existing) {
    await verifyAssets(dir, existing);
    return { dir, manifest: existing, reused: true };
  }
  await provider.ping();
  await mkdir(join(dir, 'images'), { recursive: true });
  for (const binary of MACHINE_BINARIES) {
    const url = `${kubernetesReleaseBase()}/${version}/bin/linux/${arch}/${binary}`;
    await runStep(reporter, `download ${binary} ${version}`, async (progress) => {
      const sums = join(dir, 'bin', `${binary}.sha256`);
      await download(`${url}.sha256`, sums, options.signal ? { signal: options.signal } : {});
      const sha256 = (await readFile(sums, 'utf8')).trim().split(/\s+/)[0] ?? '';
      await rm(sums, { force: true });
      await download(url, join(dir, 'bin', binary), { sha256, onProgress: ({ received }) => progress.update(`${(received / 2 ** 20).toFixed(1)} MiB`), ...(options.signal ? { signal: options.signal } : {}) });
      await chmod(join(dir, 'bin', binary), 0o755);
    });
  }
  const refs = (await capture(join(dir, 'bin', 'kubeadm'), ['config', 'images', 'list', '--kubernetes-version', version])).split('\n').map((line) => line.trim()).filter(Boolean);
  const images: Record<string, string> = {};
  for (const ref of refs) {
    const component = componentOf(ref);
    if (!IMAGE_LAYOUT[component]) continue;
    await runStep(reporter, `pull ${ref}`, async (progress) => {
      // An image the engine already holds is used as it is, so an engine stocked offline works too.
      if (!(await provider.imageExists(ref))) await provider.pullImage(ref, (line) => progress.update(line));
      await pipeline(await provider.saveImages([ref]), createWriteStream(join(dir, `images/${component}.tar`)));
    });
    images[`images/${component}.tar`] = ref;
  }
  const files: AssetManifest['files'] = {};
  for (const name of [...MACHINE_BINARIES.map((binary) => `bin/${binary}`), ...Object.keys(images)]) {
    const [relative, description] = await describeFile(dir, join(dir, name));
    files[relative] = description;
  }
  const manifest: AssetManifest = { distribution: 'kubeadm', version, arch, source: 'release', createdAt: new Date().toISOString(), images, files };
  await writeManifest(dir, manifest);
  return { dir, manifest, reused: false };
}
