import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assetDir, hostArch } from '../../src/assets/cache.js';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { run } from './helpers.js';

/** Where `kiab assets build --k8s kubeadm` puts the default version for this host. */
export const KUBEADM_ASSETS = assetDir({ distribution: 'kubeadm', version: DEFAULT_KUBEADM_VERSION, arch: hostArch() });
export const KUBEADM_KUBECTL = join(KUBEADM_ASSETS, 'bin', 'kubectl');

/** The cached kubectl with one kubeconfig: its output, trimmed, or an error naming the command and kubectl's words. */
export async function kubectlWith(
  kubeconfig: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run(KUBEADM_KUBECTL, ['--kubeconfig', kubeconfig, ...args], options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

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

/** What the set's suite says it runs (`e2e.test --list-images`): the images of every spec, one per line. */
export async function imagesTheSuiteLists(): Promise<Set<string>> {
  const listed = await new Promise<string>((resolve, reject) =>
    execFile(join(CONFORMANCE_ASSETS, 'bin', 'e2e.test'), ['--list-images'], { maxBuffer: 4 << 20, timeout: 60_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  return new Set(listed.split('\n').map((line) => line.trim()));
}

/** Like kubeadmSkip, for the specs that run the upstream conformance suite. */
export const conformanceSkip: false | string =
  kubeadmSkip ||
  (await stat(join(CONFORMANCE_ASSETS, 'manifest.json')).then(
    () => false,
    () => `no conformance suite in ${CONFORMANCE_ASSETS}: run \`kiab assets build --k8s kubeadm --conformance\` (needs Go) to run these specs`,
  ));

/** Upstream's agnhost (netexec serves, connect dials, dig asks DNS), from the conformance set: test pods need no registry. */
export const AGNHOST_ARCHIVE = join(CONFORMANCE_ASSETS, 'images', 'agnhost-2.66.1.tar');
export const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.66.1';

/** Like kubeadmSkip, for the suites whose test pods run agnhost. */
export const agnhostSkip: false | string =
  kubeadmSkip ||
  (await stat(AGNHOST_ARCHIVE).then(
    () => false,
    () => `no agnhost test image in ${AGNHOST_ARCHIVE}: run \`kiab assets build --k8s kubeadm --conformance\` (needs Go) to run this suite`,
  ));
