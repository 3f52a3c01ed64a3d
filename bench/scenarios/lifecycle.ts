// 1. `up` and `delete` at three sizes, kiab (--no-snapshot) against the raw engine calls, plus plain `up`
// (which also takes the "clean" snapshot) and `kiab status`.
import { figure, ratio, scaling, timed, type Figure, type Scaling } from '../stats.js';
import { must } from '../proc.js';
import { rawDelete, rawUp } from '../raw.js';
import { BENCH_CLUSTER, RAW_CLUSTER, RAW_SUBNET, log } from './common.js';

export const SIZES = [
  { key: '1s0w', servers: 1, workers: 0 },
  { key: '1s2w', servers: 1, workers: 2 },
  { key: '1s5w', servers: 1, workers: 5 },
] as const;

interface Pair {
  machines: number;
  kiab: Figure;
  raw: Figure;
  ratio: number;
}

export interface LifecycleResult {
  up: Record<string, Pair>;
  delete: Record<string, Pair>;
  /** Plain `kiab up` of 1+2, which also captures the "clean" snapshot, against the same raw up as above. */
  upWithCleanSnapshot_1s2w: { kiab: Figure; raw: Figure; ratio: number; snapshotCost: number };
  /** Delete of that cluster, its clean snapshot included. */
  deleteWithCleanSnapshot_1s2w: { kiab: Figure; raw: Figure; ratio: number };
  scaling: { up: { kiab: Scaling; raw: Scaling }; delete: { kiab: Scaling; raw: Scaling } };
  status_1s2w: Figure;
}

export async function lifecycle(runs: number): Promise<LifecycleResult> {
  const samples = new Map(
    SIZES.map((size) => [size.key, { kiabUp: [] as number[], kiabDelete: [] as number[], rawUp: [] as number[], rawDelete: [] as number[] }]),
  );
  const plainUp: number[] = [];
  const plainDelete: number[] = [];
  const status: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    for (const size of SIZES) {
      const counts = ['--servers', String(size.servers), '--workers', String(size.workers)];
      const bucket = samples.get(size.key)!;
      bucket.rawUp.push(await timed(() => rawUp(RAW_CLUSTER, RAW_SUBNET, size.servers, size.workers)));
      bucket.rawDelete.push(await timed(() => rawDelete(RAW_CLUSTER)));
      bucket.kiabUp.push(await timed(() => must('kiab', ['up', BENCH_CLUSTER, '--k8s', 'none', ...counts, '--no-snapshot'])));
      if (size.key === '1s2w') status.push(await timed(() => must('kiab', ['status', BENCH_CLUSTER])));
      bucket.kiabDelete.push(await timed(() => must('kiab', ['delete', BENCH_CLUSTER])));
      log(`run ${index + 1}/${runs} ${size.key}: raw up ${(bucket.rawUp.at(-1)! / 1000).toFixed(2)}s, kiab up ${(bucket.kiabUp.at(-1)! / 1000).toFixed(2)}s`);
    }
    plainUp.push(await timed(() => must('kiab', ['up', BENCH_CLUSTER, '--k8s', 'none', '--servers', '1', '--workers', '2'])));
    plainDelete.push(await timed(() => must('kiab', ['delete', BENCH_CLUSTER])));
    log(`run ${index + 1}/${runs} plain up 1s2w ${(plainUp.at(-1)! / 1000).toFixed(2)}s`);
  }
  const pair = (kiab: number[], raw: number[], machines: number): Pair => ({ machines, kiab: figure(kiab), raw: figure(raw), ratio: ratio(kiab, raw) });
  const up: Record<string, Pair> = {};
  const del: Record<string, Pair> = {};
  for (const size of SIZES) {
    const bucket = samples.get(size.key)!;
    up[size.key] = pair(bucket.kiabUp, bucket.rawUp, size.servers + size.workers);
    del[size.key] = pair(bucket.kiabDelete, bucket.rawDelete, size.servers + size.workers);
  }
  const points = (pick: (bucket: { kiabUp: number[]; kiabDelete: number[]; rawUp: number[]; rawDelete: number[] }) => number[]) =>
    SIZES.map((size) => ({ machines: size.servers + size.workers, samples: pick(samples.get(size.key)!) }));
  const base = samples.get('1s2w')!;
  const plain = figure(plainUp);
  return {
    up,
    delete: del,
    upWithCleanSnapshot_1s2w: {
      kiab: plain,
      raw: figure(base.rawUp),
      ratio: ratio(plainUp, base.rawUp),
      snapshotCost: Math.round((plain.median - figure(base.kiabUp).median) * 1000) / 1000,
    },
    deleteWithCleanSnapshot_1s2w: { kiab: figure(plainDelete), raw: figure(base.rawDelete), ratio: ratio(plainDelete, base.rawDelete) },
    scaling: {
      up: { kiab: scaling(points((bucket) => bucket.kiabUp)), raw: scaling(points((bucket) => bucket.rawUp)) },
      delete: { kiab: scaling(points((bucket) => bucket.kiabDelete)), raw: scaling(points((bucket) => bucket.rawDelete)) },
    },
    status_1s2w: figure(status),
  };
}
