// Kubernetes releases side by side: `up` 1+2 --no-addons of the default release against the oldest kiab
// knows, interleaved in the same run, and `kiab upgrade` of a 1+2 cluster with its addons from the minor
// before the default. Each needs its release's assets cached; a scenario without them says so and is skipped.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assetDir, hostArch } from '../../src/assets/cache.js';
import { KUBERNETES_RELEASES } from '../../src/distribution/kubeadm/releases.js';
import { attempt, must } from '../proc.js';
import { figure, ratio, timed, type Figure } from '../stats.js';
import { log } from './common.js';

export const VERSIONS_CLUSTER = 'bench-versions';
const NEWEST = KUBERNETES_RELEASES[0]!.version;
const OLDEST = KUBERNETES_RELEASES[KUBERNETES_RELEASES.length - 1]!.version;
const PREVIOUS = KUBERNETES_RELEASES[1]!.version;

async function cached(version: string): Promise<boolean> {
  return stat(join(assetDir({ distribution: 'kubeadm', version, arch: hostArch() }), 'manifest.json')).then(
    () => true,
    () => false,
  );
}

export interface VersionFigures {
  /** `up` 1+2 --no-addons until every node is Ready and CoreDNS runs, per release. */
  up_1s2w_no_addons: Record<string, Figure> | { skipped: string };
  /** The newest release's median over the oldest's. */
  newestOverOldest?: number;
  /** `kiab upgrade` of 1+2 with addons from the previous minor to the newest, until it returns. */
  upgrade_1s2w_addons: Figure | { skipped: string };
}

export async function versions(runs: number): Promise<VersionFigures> {
  const up = (version: string): Promise<string> =>
    must('kiab', ['up', VERSIONS_CLUSTER, '--k8s-version', version, '--workers', '2', '--no-addons', '--no-snapshot', '--no-switch']);
  const result: VersionFigures = { up_1s2w_no_addons: { skipped: '' }, upgrade_1s2w_addons: { skipped: '' } };
  const missing = (await Promise.all([NEWEST, OLDEST].map(async (version) => ((await cached(version)) ? [] : [version])))).flat();
  if (missing.length) result.up_1s2w_no_addons = { skipped: `no kubeadm assets for ${missing.join(', ')}: kiab assets build --k8s-version ...` };
  else {
    // Each release's images are built (and preloaded) outside the timed runs.
    for (const version of [NEWEST, OLDEST]) {
      await attempt('kiab', ['delete', VERSIONS_CLUSTER]);
      await up(version);
    }
    await must('kiab', ['delete', VERSIONS_CLUSTER]);
    const samples: Record<string, number[]> = { [NEWEST]: [], [OLDEST]: [] };
    for (let run = 0; run < runs; run += 1) {
      for (const version of [NEWEST, OLDEST]) {
        log(`versions: up 1+2 --no-addons ${version}, run ${run + 1}/${runs}`);
        samples[version]!.push(await timed(() => up(version)));
        await must('kiab', ['delete', VERSIONS_CLUSTER]);
      }
    }
    result.up_1s2w_no_addons = { [NEWEST]: figure(samples[NEWEST]!), [OLDEST]: figure(samples[OLDEST]!) };
    result.newestOverOldest = ratio(samples[NEWEST]!, samples[OLDEST]!);
  }
  if (!(await cached(PREVIOUS)) || !(await cached(NEWEST))) result.upgrade_1s2w_addons = { skipped: `needs kubeadm assets for ${PREVIOUS} and ${NEWEST}` };
  else {
    const upgrades: number[] = [];
    for (let run = 0; run < Math.min(runs, 2); run += 1) {
      await attempt('kiab', ['delete', VERSIONS_CLUSTER]);
      await must('kiab', ['up', VERSIONS_CLUSTER, '--k8s-version', PREVIOUS, '--workers', '2', '--no-snapshot', '--no-switch']);
      log(`versions: upgrade 1+2 with addons ${PREVIOUS} -> ${NEWEST}, run ${run + 1}`);
      upgrades.push(await timed(() => must('kiab', ['upgrade', VERSIONS_CLUSTER, '--k8s-version', NEWEST])));
    }
    await must('kiab', ['delete', VERSIONS_CLUSTER]);
    result.upgrade_1s2w_addons = figure(upgrades);
  }
  return result;
}
