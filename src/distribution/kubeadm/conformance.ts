import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { assetDir, cacheRoot, describeFile, hostArch, readManifest, verifyAssets, writeManifest, type AssetManifest } from '../../assets/cache.js';
import { download } from '../../assets/download.js';
import { KiabError } from '../../errors.js';
import { DEBIAN_MIRROR } from '../../images/debootstrap.js';
import { DEBOOTSTRAP_BASE_IMAGE, DEFAULT_BASE_IMAGE } from '../../images/index.js';
import { LABEL } from '../../labels.js';
import type { Provider } from '../../provider/types.js';
import { runStep } from '../../reporter.js';
import { kiabVersion } from '../../version.js';
import type { AssetRequest, AssetSet } from '../types.js';
import { archiveName, BUSYBOX_SOURCE, TEST_IMAGES } from './conformance-images.js';
import { buildKubernetesBinaries, KUBEBUILD_SUITE } from './kubebuild.js';

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
  const existing = request.force ? undefined : await readManifest(dir);
  if (existing) {
    await verifyAssets(dir, existing);
    return { dir, manifest: existing, reused: true };
  }
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

  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'images'), { recursive: true });
  for (const binary of SUITE_BINARIES) await copyFile(join(buildBin, binary), join(dir, 'bin', binary));
  // The kubectl specs run kubectl on the host: the one of the same version.
  await copyFile(join(kubeadm.dir, 'bin', 'kubectl'), join(dir, 'bin', 'kubectl'));

  const images: Record<string, string> = {};
  await runStep(reporter, 'build the test images', async (progress) => {
    for (const image of TEST_IMAGES) {
      progress.update(image.ref);
      await provider.buildImage({
        tag: image.ref,
        files: [{ path: 'Dockerfile', content: image.dockerfile }, ...(await image.files(buildBin))],
        buildArgs: { BASE: image.from === 'base' ? base : image.from },
        labels: { [LABEL.managed]: kiabVersion },
        onProgress: (line) => progress.update(`${image.ref}: ${line}`),
      });
      if (!image.saved) continue;
      const file = archiveName(image.ref);
      await pipeline(await provider.saveImages([image.ref]), createWriteStream(join(dir, file)));
      images[file] = image.ref;
    }
  });
  const pause = Object.entries(kubeadm.manifest.images).find(([, ref]) => ref.includes('/pause:'));
  if (!pause) throw new KiabError(`the kubeadm ${version} assets hold no pause image`);
  await copyFile(join(kubeadm.dir, pause[0]), join(dir, pause[0]));
  images[pause[0]] = pause[1];

  const files: AssetManifest['files'] = {};
  for (const name of [...[...SUITE_BINARIES, 'kubectl'].map((binary) => `bin/${binary}`), ...Object.keys(images)]) {
    const [relative, description] = await describeFile(dir, join(dir, name));
    files[relative] = description;
  }
  const manifest: AssetManifest = {
    distribution: 'conformance',
    version,
    arch: hostArch(),
    source: 'build',
    createdAt: new Date().toISOString(),
    images,
    files,
  };
  await writeManifest(dir, manifest);
  return { dir, manifest, reused: false };
}
