import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { assetDir, type AssetManifest, cacheRoot, hostArch, recordAssetSet, verifiedSetIn } from '../../assets/cache.js';
import { download } from '../../assets/download.js';
import { KiabError } from '../../errors.js';
import { DEBIAN_MIRROR } from '../../images/debootstrap.js';
import { DEBOOTSTRAP_BASE_IMAGE, DEFAULT_BASE_IMAGE } from '../../images/index.js';
import { LABEL } from '../../labels.js';
import type { Provider } from '../../provider/types.js';
import { runStep } from '../../reporter.js';
import { kiabVersion } from '../../version.js';
import type { AssetRequest, AssetSet } from '../types.js';
import { archiveName, BUSYBOX_SOURCE, type TestImage, testImagesFor } from './conformance-images.js';
import { pullPinned } from '../../assets/pinned-pull.js';
import { localBuildName, saveLocalBuild } from '../../assets/local-builds.js';
import { buildKubernetesBinaries, KUBEBUILD_SUITE } from './kubebuild.js';
import { resolveRelease } from './releases.js';

/**
 * The test images this release's suite runs that the set must make or pull. One the kubeadm set already holds
 * under the same reference (v1.37's suite asks for the etcd its kubeadm runs) is taken from there instead:
 * a second image under that name would replace the control plane's in the machines.
 */
function imagesToMake(kubeadm: AssetSet): TestImage[] {
  const held = new Set(Object.values(kubeadm.manifest.images));
  return testImagesFor(resolveRelease(kubeadm.manifest.version)).filter((image) => !held.has(image.ref));
}

/**
 * The cached set, if it is whole and holds every image the release's suite asks for: a set made by an
 * earlier kiab under other tags is made again rather than kept.
 */
async function currentSetIn(dir: string, kubeadm: AssetSet): Promise<AssetSet | undefined> {
  const cached = await verifiedSetIn(dir);
  const held = new Set(cached ? Object.values(cached.manifest.images) : []);
  return cached && imagesToMake(kubeadm).every((image) => !image.saved || held.has(image.ref)) ? cached : undefined;
}

/** What `kiab conformance` runs on the host: the suite and the CLI that runs it in parallel. */
export const SUITE_BINARIES = ['e2e.test', 'ginkgo'] as const;

/** The Debian image kiab's node image was built on: the test images' packages come from the same release. */
async function debianBase(provider: Provider): Promise<string> {
  for (const image of [DEBOOTSTRAP_BASE_IMAGE, DEFAULT_BASE_IMAGE]) if (await provider.imageExists(image)) return image;
  throw new KiabError(`neither ${DEBOOTSTRAP_BASE_IMAGE} nor ${DEFAULT_BASE_IMAGE} is in the engine, so the test images have no base`, {
    hint: 'run `kiab image build` first',
  });
}

/**
 * The conformance set for a Kubernetes version, beside the kubeadm set it was built with: e2e.test and the
 * ginkgo CLI compiled from the same k8s.io/kubernetes module, the kubeadm set's kubectl, and every image the `[Conformance]` specs run,
 * under its upstream name, as archives `kiab conformance` loads into the machines. The kubeadm set's pause
 * archive is part of it, so a cluster of another distribution gets the pause image the specs name too.
 */
export async function buildConformanceAssets(request: AssetRequest, kubeadm: AssetSet): Promise<AssetSet> {
  const { provider, reporter } = request;
  const version = kubeadm.manifest.version;
  const dir = assetDir({ distribution: 'conformance', version, arch: hostArch() });
  const cached = request.force ? undefined : await currentSetIn(dir, kubeadm);
  if (cached) return cached;
  const buildBin = join(cacheRoot(), 'build', 'conformance', version, 'bin');
  await runStep(reporter, `compile the conformance suite ${version} from the Go modules`, (progress) =>
    buildKubernetesBinaries(version, buildBin, KUBEBUILD_SUITE, (line) => progress.update(line), request.signal),
  );
  const base = await debianBase(provider);
  await runStep(reporter, `download busybox's source from ${DEBIAN_MIRROR}`, () =>
    download(`${DEBIAN_MIRROR.replace(/\/+$/, '')}/${BUSYBOX_SOURCE.path}`, join(buildBin, BUSYBOX_SOURCE.file), {
      sha256: BUSYBOX_SOURCE.sha256,
      ...(request.signal ? { signal: request.signal } : {}),
    }),
  );

  await startSet(dir);
  for (const binary of SUITE_BINARIES) await copyFile(join(buildBin, binary), join(dir, 'bin', binary));
  const images: Record<string, string> = {};
  await runStep(reporter, 'build the test images', async (progress) => {
    for (const image of imagesToMake(kubeadm)) {
      progress.update(image.ref);
      await provider.buildImage({
        tag: localBuildName(image.ref),
        files: [{ path: 'Dockerfile', content: image.dockerfile }, ...(await image.files(buildBin))],
        buildArgs: { BASE: image.from === 'base' ? base : localBuildName(image.from) },
        labels: { [LABEL.managed]: kiabVersion },
        onProgress: (line) => progress.update(`${image.ref}: ${line}`),
      });
      if (image.saved) {
        await saveLocalBuild(provider, image.ref, join(dir, archiveName(image.ref)));
        images[archiveName(image.ref)] = image.ref;
      }
    }
  });
  return recordSet(dir, kubeadm, 'build', images);
}

/** Upstream's image of the suite, made for every release: e2e.test and the ginkgo CLI in /usr/local/bin. */
export function conformanceImage(version: string): string {
  return `registry.k8s.io/conformance:${version}`;
}

/**
 * `kiab assets pull --conformance`: the same set from upstream's images instead. e2e.test and ginkgo come out
 * of the conformance image, and each test image is pulled by the digest its tag points at (as the control
 * plane's are), then saved under its upstream name. An image the engine already holds is used as it is.
 */
export async function pullConformanceAssets(request: AssetRequest, kubeadm: AssetSet): Promise<AssetSet> {
  const { provider, reporter, signal } = request;
  const version = kubeadm.manifest.version;
  const dir = assetDir({ distribution: 'conformance', version, arch: hostArch() });
  const cached = request.force ? undefined : await currentSetIn(dir, kubeadm);
  if (cached) return cached;
  await startSet(dir);
  const digests: Record<string, string> = {};
  const suite = conformanceImage(version);
  await runStep(reporter, `pull ${suite}`, async (progress) => {
    digests[suite] = await pullPinned(provider, suite, (line) => progress.update(line), signal);
    for (const binary of SUITE_BINARIES)
      await provider.copyFileFromImage(suite, `/usr/local/bin/${binary}`, join(dir, 'bin', binary), { [LABEL.managed]: kiabVersion });
  });
  const images: Record<string, string> = {};
  for (const image of imagesToMake(kubeadm).filter((candidate) => candidate.saved)) {
    await runStep(reporter, `pull ${image.ref}`, async (progress) => {
      digests[image.ref] = await pullPinned(provider, image.ref, (line) => progress.update(line), signal);
      images[await saveTestImage(provider, image.ref, dir)] = image.ref;
    });
  }
  return recordSet(dir, kubeadm, 'release', images, digests);
}

/** An empty set folder: whatever an earlier, unfinished attempt left there goes. */
async function startSet(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'images'), { recursive: true });
}

async function saveTestImage(provider: Provider, ref: string, dir: string): Promise<string> {
  const file = archiveName(ref);
  await pipeline(await provider.saveImages([ref]), createWriteStream(join(dir, file)));
  return file;
}

/**
 * Completes a set with what it shares with the kubeadm set (kubectl of the same version, which the kubectl specs
 * run on the host, the pause image the specs name, and any other image of the suite's list the kubeadm set
 * holds) and checksums everything into its manifest.
 */
async function recordSet(
  dir: string,
  kubeadm: AssetSet,
  source: AssetManifest['source'],
  testImages: Record<string, string>,
  imageDigests: Record<string, string> = {},
): Promise<AssetSet> {
  const version = kubeadm.manifest.version;
  await copyFile(join(kubeadm.dir, 'bin', 'kubectl'), join(dir, 'bin', 'kubectl'));
  const asked = new Set(resolveRelease(version).testImages);
  const shared = Object.entries(kubeadm.manifest.images).filter(([, ref]) => ref.includes('/pause:') || asked.has(ref));
  if (!shared.some(([, ref]) => ref.includes('/pause:'))) throw new KiabError(`the kubeadm ${version} assets hold no pause image`);
  for (const [file] of shared) await copyFile(join(kubeadm.dir, file), join(dir, file));
  const images = { ...testImages, ...Object.fromEntries(shared) };

  const binaries = [...SUITE_BINARIES, 'kubectl'].map((binary) => `bin/${binary}`);
  return recordAssetSet(dir, { distribution: 'conformance', version, source, images, imageDigests }, binaries);
}
