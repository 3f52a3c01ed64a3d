import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { assetDir, type Arch, type AssetManifest, cacheRoot, hostArch, recordAssetSet, verifiedSetIn } from '../../assets/cache.js';
import { download } from '../../assets/download.js';
import { pullPinned } from '../../assets/pinned-pull.js';
import { localBuildName, saveLocalBuild } from '../../assets/local-builds.js';
import { withAssetSetLock } from '../../assets/lock.js';
import { KiabError } from '../../errors.js';
import { LABEL } from '../../labels.js';
import { runProcess } from '../../process.js';
import type { Provider } from '../../provider/types.js';
import { runStep } from '../../reporter.js';
import { kiabVersion } from '../../version.js';
import type { AssetRequest, AssetSet } from '../types.js';
import { MACHINE_BINARIES } from './assets.js';
import { buildKubernetesBinaries, KUBEBUILD_BINARIES } from './kubebuild.js';
import { resolveRelease } from './releases.js';

/** How each control-plane image runs its binary: kubeadm's manifests call the command by name. */
const IMAGE_LAYOUT: Record<string, { path: string; entrypoint: string[] }> = {
  'kube-apiserver': { path: '/usr/local/bin/kube-apiserver', entrypoint: ['/usr/local/bin/kube-apiserver'] },
  'kube-controller-manager': { path: '/usr/local/bin/kube-controller-manager', entrypoint: ['/usr/local/bin/kube-controller-manager'] },
  'kube-scheduler': { path: '/usr/local/bin/kube-scheduler', entrypoint: ['/usr/local/bin/kube-scheduler'] },
  etcd: { path: '/usr/local/bin/etcd', entrypoint: ['/usr/local/bin/etcd'] },
  coredns: { path: '/coredns', entrypoint: ['/coredns'] },
  pause: { path: '/pause', entrypoint: ['/pause'] },
};

/** Only releases kiab knows (the version becomes a cache path, so nothing else may leave the cache). */
export function kubeadmRequestVersion(version: string | undefined): string {
  return resolveRelease(version).version;
}

/** registry.k8s.io/etcd:3.6.5-0 -> etcd */
function componentOf(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1).split(':')[0]!;
}

/** The images kubeadm of this version runs, as it lists them itself. */
async function imageRefs(kubeadm: string, version: string): Promise<string[]> {
  const listed = await runProcess(kubeadm, ['config', 'images', 'list', '--kubernetes-version', version], { what: 'kubeadm config images list' });
  return listed
    .split('\n')
    .map((line) => line.trim())
    .filter((ref) => ref && IMAGE_LAYOUT[componentOf(ref)]); // kube-proxy runs as a machine service, not from an image
}

/** Checksums every binary and image archive into the manifest: from here on nothing unverified is used. */
async function recordSet(
  dir: string,
  version: string,
  source: AssetManifest['source'],
  images: Record<string, string>,
  imageDigests: Record<string, string> = {},
): Promise<AssetSet> {
  const missing = Object.keys(IMAGE_LAYOUT).filter((component) => !images[`images/${component}.tar`]);
  if (missing.length) throw new KiabError(`kubeadm ${version} lists no image for ${missing.join(', ')}`);
  const binaries = MACHINE_BINARIES.map((binary) => `bin/${binary}`);
  return recordAssetSet(dir, { distribution: 'kubeadm', version, source, images, imageDigests }, binaries);
}

/** Where a set keeps the archive of a control-plane image. */
const imageFile = (ref: string): string => `images/${componentOf(ref)}.tar`;

async function saveImage(provider: Provider, ref: string, dir: string): Promise<string> {
  const file = imageFile(ref);
  await pipeline(await provider.saveImages([ref]), createWriteStream(join(dir, file)));
  return file;
}

/**
 * `kiab assets build --k8s kubeadm`: compiles Kubernetes (and etcd, CoreDNS, pause) from the Go modules,
 * turns the control-plane binaries into images under the names kubeadm expects, and stores binaries and
 * image archives with their checksums in the same cache layout a download fills.
 */
export async function buildKubeadmAssets(request: AssetRequest): Promise<AssetSet> {
  const version = kubeadmRequestVersion(request.version);
  await request.provider.ping();
  const dir = assetDir({ distribution: 'kubeadm', version, arch: hostArch() });
  return underSetLock(request, dir, () => buildSet(request, version, dir));
}

/**
 * Writes a set under its lock, which every cluster's `up` and every user's `assets` command writing the same
 * set takes; the wait is told through the reporter, and Ctrl-C ends it.
 */
function underSetLock(request: AssetRequest, dir: string, work: () => Promise<AssetSet>): Promise<AssetSet> {
  return withAssetSetLock(dir, work, {
    ...(request.signal ? { signal: request.signal } : {}),
    onWait: (holder) => request.reporter.warn(`waiting for ${holder}, which is writing ${dir}`),
  });
}

/** The build itself, under the set's lock: a set another process finished meanwhile is taken as it is. */
async function buildSet(request: AssetRequest, version: string, dir: string): Promise<AssetSet> {
  const { provider, reporter } = request;
  const cached = request.force ? undefined : await verifiedSetIn(dir);
  if (cached) return cached;
  // Go's own caches make a second build of the same version a no-op; the output folder stays put for that.
  const buildBin = join(cacheRoot(), 'build', 'kubeadm', version, 'bin');
  await runStep(reporter, `compile Kubernetes ${version} from the Go modules`, (progress) =>
    buildKubernetesBinaries(version, buildBin, KUBEBUILD_BINARIES, (detail) => progress.update(detail), request.signal),
  );

  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'images'), { recursive: true });
  for (const binary of MACHINE_BINARIES) await copyFile(join(buildBin, binary), join(dir, 'bin', binary));

  const images: Record<string, string> = {};
  await runStep(reporter, 'build control-plane images', async (progress) => {
    const refs = await imageRefs(join(buildBin, 'kubeadm'), version);
    for (const [index, ref] of refs.entries()) {
      const component = componentOf(ref);
      const layout = IMAGE_LAYOUT[component]!;
      progress.update(`${ref} (${index + 1}/${refs.length})`);
      await provider.buildImage({
        tag: localBuildName(ref),
        files: [
          {
            path: 'Dockerfile',
            content: `FROM scratch\nCOPY ${component} ${layout.path}\nENV PATH=/usr/local/bin:/usr/bin:/bin\nENTRYPOINT ${JSON.stringify(layout.entrypoint)}\n`,
          },
          { path: component, content: await readFile(join(buildBin, component)), mode: 0o755 },
        ],
        buildArgs: {},
        labels: { [LABEL.managed]: kiabVersion },
      });
      const file = imageFile(ref);
      await saveLocalBuild(provider, ref, join(dir, file));
      images[file] = ref;
    }
  });
  return recordSet(dir, version, 'build', images);
}

/** Where Kubernetes releases come from; KIAB_K8S_RELEASE_URL points at a mirror. */
function kubernetesReleaseBase(): string {
  return (process.env.KIAB_K8S_RELEASE_URL ?? 'https://dl.k8s.io/release').replace(/\/+$/, '');
}

/**
 * `kiab assets pull --k8s kubeadm`: the official path. Binaries from the Kubernetes release site, each checked
 * against its published .sha256; control-plane images pulled by digest and saved as archives. It ends in
 * the same cache layout as a build from source, so `up` cannot tell them apart.
 */
export async function pullKubeadmAssets(request: AssetRequest): Promise<AssetSet> {
  const version = kubeadmRequestVersion(request.version);
  const arch = hostArch();
  const dir = assetDir({ distribution: 'kubeadm', version, arch });
  return (await verifiedSetIn(dir)) ?? underSetLock(request, dir, () => pullSet(request, version, arch, dir));
}

/** The download itself, under the set's lock: a set another process finished meanwhile is taken as it is. */
async function pullSet(request: AssetRequest, version: string, arch: Arch, dir: string): Promise<AssetSet> {
  const { provider, reporter, signal } = request;
  const cached = await verifiedSetIn(dir);
  if (cached) return cached;
  await provider.ping();
  for (const binary of MACHINE_BINARIES) {
    const url = `${kubernetesReleaseBase()}/${version}/bin/linux/${arch}/${binary}`;
    await runStep(reporter, `download ${binary} ${version}`, async (progress) => {
      const sums = join(dir, 'bin', `${binary}.sha256`);
      await download(`${url}.sha256`, sums, signal ? { signal } : {});
      const sha256 = (await readFile(sums, 'utf8')).trim().split(/\s+/)[0] ?? '';
      await rm(sums, { force: true });
      // An empty or malformed sums file is a refusal, never a download left unchecked.
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new KiabError(`${url}.sha256 holds no sha256 sum; refusing to download ${binary} unchecked`);
      await download(url, join(dir, 'bin', binary), {
        sha256,
        onProgress: ({ received }) => progress.update(`${(received / 2 ** 20).toFixed(1)} MiB`),
        ...(signal ? { signal } : {}),
      });
      await chmod(join(dir, 'bin', binary), 0o755);
    });
  }
  await mkdir(join(dir, 'images'), { recursive: true });
  const images: Record<string, string> = {};
  const digests: Record<string, string> = {};
  for (const ref of await imageRefs(join(dir, 'bin', 'kubeadm'), version)) {
    await runStep(reporter, `pull ${ref}`, async (progress) => {
      // Always by the digest the tag resolves to: an image the engine holds under that name may be anything
      // (the engine skips the download when it holds that digest already).
      digests[ref] = await pullPinned(provider, ref, (line) => progress.update(line), signal);
      images[await saveImage(provider, ref, dir)] = ref;
    });
  }
  return recordSet(dir, version, 'release', images, digests);
}
