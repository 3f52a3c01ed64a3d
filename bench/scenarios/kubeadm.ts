// up --k8s kubeadm until every node is Ready, CoreDNS runs and the four addons work (kiab's up returns only
// then), and delete, from a warm asset cache: nothing is built or downloaded in the timed part. Also the
// memory the idle 1+2 cluster with its addons takes, summed over its containers.
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { kubeadmSkip } from '../../test/e2e/kubeadm-cache.js';
import { attempt, lines, must } from '../proc.js';
import { figure, timed, type Figure } from '../stats.js';
import { log } from './common.js';

const CLUSTER = 'bench-kubeadm';

export interface KubeadmFigures {
  version: string;
  up_1s2w: Figure;
  delete_1s2w: Figure;
  up_1s0w: Figure;
  delete_1s0w: Figure;
  /** `up` 1+2 with --no-addons, to show what the addons cost. */
  up_1s2w_no_addons: Figure;
  /** MiB of memory the idle 1+2 cluster with addons uses, summed over box and machines (docker stats), after a minute at rest. */
  idle_memory_mib_1s2w: number;
  /** Published single-node figures (create / until usable), for comparison; not measured here. */
  published: Record<string, { create: number; usable: number }>;
}

const UNITS: Record<string, number> = { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024 };

/** After a minute at rest, the memory of every container of the cluster, as `docker stats` counts it (MiB). */
async function idleMemoryMiB(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  const usage = await must('docker', ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}']);
  return Math.round(
    lines(usage)
      .filter((line) => line.startsWith(`kiab-${CLUSTER}-`))
      .map((line) => /^\S+ ([\d.]+)(B|KiB|MiB|GiB) /.exec(line))
      .reduce((total, match) => total + (match ? Number(match[1]) * UNITS[match[2]!]! : 0), 0),
  );
}

export async function kubeadmLifecycle(runs: number): Promise<KubeadmFigures | { skipped: string }> {
  if (kubeadmSkip) return { skipped: kubeadmSkip };
  // The node image, and the preloaded image of each role, are built outside the timed runs.
  await attempt('kiab', ['delete', CLUSTER]);
  await must('kiab', ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '1', '--no-snapshot', '--no-switch']);
  await must('kiab', ['delete', CLUSTER]);
  const sizes = [
    { key: '1s2w', workers: '2', runs },
    { key: '1s0w', workers: '0', runs: Math.min(runs, 2) },
  ] as const;
  const results: Record<string, { up: number[]; delete: number[] }> = {};
  let idleMemory = 0;
  for (const size of sizes) {
    results[size.key] = { up: [], delete: [] };
    for (let run = 0; run < size.runs; run += 1) {
      log(`kubeadm ${size.key} run ${run + 1}/${size.runs}`);
      results[size.key]!.up.push(
        await timed(() => must('kiab', ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', size.workers, '--no-snapshot', '--no-switch'])),
      );
      if (size.key === '1s2w' && run === 0) idleMemory = await idleMemoryMiB();
      results[size.key]!.delete.push(await timed(() => must('kiab', ['delete', CLUSTER])));
    }
  }
  const bare: number[] = [];
  for (let run = 0; run < Math.min(runs, 2); run += 1) {
    log(`kubeadm 1s2w --no-addons run ${run + 1}`);
    bare.push(await timed(() => must('kiab', ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '2', '--no-addons', '--no-snapshot', '--no-switch'])));
    await must('kiab', ['delete', CLUSTER]);
  }
  return {
    version: DEFAULT_KUBEADM_VERSION,
    up_1s2w: figure(results['1s2w']!.up),
    delete_1s2w: figure(results['1s2w']!.delete),
    up_1s0w: figure(results['1s0w']!.up),
    delete_1s0w: figure(results['1s0w']!.delete),
    up_1s2w_no_addons: figure(bare),
    idle_memory_mib_1s2w: idleMemory,
    published: {
      'kind (1 node)': { create: 14.2, usable: 33.0 },
      'k3d (1 node)': { create: 12.6, usable: 19.9 },
      'minikube (1 node)': { create: 21.1, usable: 50.8 },
    },
  };
}
