import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assetDir, hostArch } from '../../src/assets/cache.js';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';

/** Where `kiab assets build --k8s kubeadm` puts the default version for this host. */
export const KUBEADM_ASSETS = assetDir({ distribution: 'kubeadm', version: DEFAULT_KUBEADM_VERSION, arch: hostArch() });
export const KUBEADM_KUBECTL = join(KUBEADM_ASSETS, 'bin', 'kubectl');

/**
 * `false` when the kubeadm assets are cached, else why a real-cluster suite cannot run. CI builds them
 * first (scripts/setup.sh); elsewhere the suite is reported as one skipped test with this reason, so the
 * run's summary counts it instead of passing over it silently.
 */
export const kubeadmSkip: false | string = await stat(join(KUBEADM_ASSETS, 'manifest.json')).then(
  () => false,
  () => `no kubeadm assets in ${KUBEADM_ASSETS}: run \`kiab assets build --k8s kubeadm\` (needs Go) to run this suite`,
);

/** Where the same command puts the conformance suite and its test images for that version. */
export const CONFORMANCE_ASSETS = assetDir({ distribution: 'conformance', version: DEFAULT_KUBEADM_VERSION, arch: hostArch() });

/**
 * The set's test images the suite does not ask for: kiab makes them under fixed tags (conformance-images.ts),
 * and a release whose suite asks for other tags would wait on images no machine holds. The suite says what it
 * asks for (`e2e.test --list-images`).
 */
async function imagesTheSuiteDoesNotAskFor(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(CONFORMANCE_ASSETS, 'manifest.json'), 'utf8')) as { images: Record<string, string> };
  const listed = await new Promise<string>((resolve, reject) =>
    execFile(join(CONFORMANCE_ASSETS, 'bin', 'e2e.test'), ['--list-images'], { maxBuffer: 4 << 20, timeout: 60_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  const asked = new Set(listed.split('\n').map((line) => line.trim()));
  return Object.values(manifest.images).filter((ref) => !asked.has(ref));
}

/** Like kubeadmSkip, for the specs that run the upstream conformance suite. */
export const conformanceSkip: false | string =
  kubeadmSkip ||
  (await stat(join(CONFORMANCE_ASSETS, 'manifest.json')).then(
    async () => {
      const unasked = await imagesTheSuiteDoesNotAskFor();
      return unasked.length === 0
        ? false
        : `the conformance set for ${DEFAULT_KUBEADM_VERSION} holds test images its suite does not ask for (${unasked.join(', ')}): kiab makes them under one release's tags, and this release's specs would wait on images no machine holds`;
    },
    () => `no conformance suite in ${CONFORMANCE_ASSETS}: run \`kiab assets build --k8s kubeadm --conformance\` (needs Go) to run these specs`,
  ));
