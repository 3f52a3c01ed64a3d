// up --k8s kubeadm until every node is Ready and CoreDNS runs (kiab's up returns only then), and delete,
// from a warm asset cache: nothing is built or downloaded in the timed part.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assetDir, hostArch } from '../../src/assets/cache.js';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { attempt, must } from '../proc.js';
import { figure, timed, type Figure } from '../stats.js';
import { log } from './common.js';

const CLUSTER = 'bench-kubeadm';

export interface KubeadmFigures {
  version: string;
  up_1s2w: Figure;
  delete_1s2w: Figure;
  up_1s0w: Figure;
  delete_1s0w: Figure;
  /** Published single-node figures (create / until usable), for comparison; not measured here. */
  published: Record<string, { create: number; usable: number }>;
}

export async function kubeadmLifecycle(runs: number): Promise<KubeadmFigures | { skipped: string }> {
  const assets = assetDir({ distribution: 'kubeadm', version: DEFAULT_KUBEADM_VERSION, arch: hostArch() });
  if (
    !(await stat(join(assets, 'manifest.json')).then(
      () => true,
      () => false,
    ))
  )
    return { skipped: `no kubeadm assets in ${assets}` };
  // The node image is built outside the timed runs.
  await attempt('kiab', ['delete', CLUSTER]);
  await must('kiab', ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '0', '--no-snapshot', '--no-switch']);
  await must('kiab', ['delete', CLUSTER]);
  const sizes = [
    { key: '1s2w', workers: '2', runs },
    { key: '1s0w', workers: '0', runs: Math.min(runs, 2) },
  ] as const;
  const results: Record<string, { up: number[]; delete: number[] }> = {};
  for (const size of sizes) {
    results[size.key] = { up: [], delete: [] };
    for (let run = 0; run < size.runs; run += 1) {
      log(`kubeadm ${size.key} run ${run + 1}/${size.runs}`);
      results[size.key]!.up.push(
        await timed(() => must('kiab', ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', size.workers, '--no-snapshot', '--no-switch'])),
      );
      results[size.key]!.delete.push(await timed(() => must('kiab', ['delete', CLUSTER])));
    }
  }
  return {
    version: DEFAULT_KUBEADM_VERSION,
    up_1s2w: figure(results['1s2w']!.up),
    delete_1s2w: figure(results['1s2w']!.delete),
    up_1s0w: figure(results['1s0w']!.up),
    delete_1s0w: figure(results['1s0w']!.delete),
    published: {
      'kind (1 node)': { create: 14.2, usable: 33.0 },
      'k3d (1 node)': { create: 12.6, usable: 19.9 },
      'minikube (1 node)': { create: 21.1, usable: 50.8 },
    },
  };
}
