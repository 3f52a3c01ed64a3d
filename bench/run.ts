// `npm run bench`: kiab against the raw engine calls doing the same work, in the same run.
// Prints one JSON document and writes it to bench/results/latest.json; progress goes to stderr.
// Each figure is the median of KIAB_BENCH_RUNS runs (default 3) with min and max, in seconds.
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { attempt, lines, must } from './proc.js';
import { rawDelete, rawUp, removeBenchImages } from './raw.js';
import { figure, round, timed } from './stats.js';
import { BENCH_CLUSTER, RAW_CLUSTER, RAW_SUBNET, elapsedSeconds, log } from './scenarios/common.js';
import { imageLoad, makeLoadImage } from './scenarios/image-load.js';
import { addonBuild } from './scenarios/addons.js';
import { kubeadmLifecycle } from './scenarios/kubeadm.js';
import { PHASES_CLUSTER, kubeadmPhases, type KubeadmPhaseFigures } from './scenarios/kubeadm-phases.js';
import { kubeadmHa } from './scenarios/kubeadm-ha.js';
import { lifecycle } from './scenarios/lifecycle.js';
import { snapshots } from './scenarios/snapshot.js';

const RUNS = Number(process.env.KIAB_BENCH_RUNS ?? 3);
/** `kubeadm-phases` runs that scenario alone and writes bench/results/kubeadm-phases.json (about 3 minutes). */
const ONLY = process.env.KIAB_BENCH_ONLY;

/** Everything the bench makes: cluster bench (with its snapshots), the raw objects, the images labelled kiab-bench=1. */
async function cleanup(): Promise<void> {
  const deleted = await attempt('kiab', ['delete', BENCH_CLUSTER, 'bench-kubeadm', 'bench-kubeadm-ha', PHASES_CLUSTER]);
  if (deleted.code !== 0) log(`cleanup: kiab delete ${BENCH_CLUSTER} exited ${deleted.code}: ${deleted.stderr.trim()}`);
  await rawDelete(RAW_CLUSTER);
  await removeBenchImages();
}

async function machineInfo(): Promise<Record<string, string | number>> {
  const engine = (await must('docker', ['version', '--format', '{{.Server.Version}}'])).trim();
  const info = lines(await must('docker', ['info', '--format', '{{.Driver}} {{.CgroupVersion}}']))[0]?.split(' ') ?? [];
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    docker: engine,
    storageDriver: info[0] ?? 'unknown',
    cgroupVersion: info[1] ?? 'unknown',
    node: process.version,
  };
}

function target(measured: number, comparison: '<' | '<=' | '>=', limit: number, unit: string): { measured: number; target: string; pass: boolean } {
  const pass = comparison === '<' ? measured < limit : comparison === '<=' ? measured <= limit : measured >= limit;
  return { measured, target: `${comparison} ${limit}${unit}`, pass };
}

function kubeadmTargets(phases: KubeadmPhaseFigures): Record<string, ReturnType<typeof target>> {
  return {
    up_kubeadm_1s2w_until_coredns_answers_under_20s: target(phases.up.usable.median, '<', 20, ' s'),
    reset_kubeadm_1s2w_until_coredns_answers_under_10s: target(phases.reset.usable.median, '<', 10, ' s'),
    idle_memory_kubeadm_1s2w_under_1GiB: target(phases.idleMemoryMiB.total ?? 0, '<', 1024, ' MiB'),
  };
}

/** KIAB_BENCH_ONLY=kubeadm-phases: that scenario alone, with the host's load before and after. */
async function kubeadmPhasesOnly(): Promise<void> {
  const loadAtStart = loadavg().map((value) => round(value));
  try {
    const phases = await kubeadmPhases(RUNS);
    const result = {
      date: new Date().toISOString(),
      machine: await machineInfo(),
      host: { loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((value) => round(value)) },
      unit: 'seconds',
      runs: RUNS,
      kubeadmPhases: phases,
      targets: kubeadmTargets(phases),
    };
    const text = `${JSON.stringify(result, null, 2)}\n`;
    await writeFile(new URL('./results/kubeadm-phases.json', import.meta.url), text);
    process.stdout.write(text);
  } finally {
    await attempt('kiab', ['delete', PHASES_CLUSTER]);
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`KIAB_BENCH_RUNS must be a positive integer, not "${process.env.KIAB_BENCH_RUNS}"`);
  if (ONLY === 'kubeadm-phases') return kubeadmPhasesOnly();
  if (ONLY !== undefined) throw new Error(`KIAB_BENCH_ONLY: "${ONLY}" is not a scenario that runs alone (kubeadm-phases)`);
  await must('kiab', ['image', 'build']);
  await cleanup();
  // Other work on the host skews every figure: say how busy it was (kiab and raw runs are interleaved, so both see it).
  const loadAtStart = loadavg().map((value) => round(value));
  const otherContainers = lines(await must('docker', ['ps', '-q'])).length;
  try {
    log(`lifecycle: up/delete at 1+0, 1+2, 1+5, ${RUNS} runs`);
    const { status_1s2w, ...lifecycleFigures } = await lifecycle(RUNS);

    log('snapshot: setting up cluster bench (1+2) and the raw machines');
    await must('kiab', ['up', BENCH_CLUSTER, '--k8s', 'none', '--servers', '1', '--workers', '2']);
    const raw = await rawUp(RAW_CLUSTER, RAW_SUBNET, 1, 2);
    const snap = await snapshots(RUNS, raw);
    await rawDelete(RAW_CLUSTER);

    log('image load: making the image');
    const imageId = await makeLoadImage();
    const load = await imageLoad(RUNS, imageId);

    log('kubeadm: up until Ready and CoreDNS running, and delete');
    const kubeadm = await kubeadmLifecycle(RUNS);
    log('kubeadm phases: up 1+2 --no-addons and reset, phase by phase, and idle memory per machine');
    const phases = 'skipped' in kubeadm ? undefined : await kubeadmPhases(RUNS);
    log('kubeadm HA: API failover and the load balancer against DNAT');
    const kubeadmHaFigures = 'skipped' in kubeadm ? kubeadm : await kubeadmHa(RUNS);

    log('addon assets: build from the Go modules');
    const addons = await addonBuild(RUNS);

    const version: number[] = [];
    for (let index = 0; index < Math.max(RUNS, 5); index += 1) version.push(await timed(() => must('kiab', ['--version'])));

    const result = {
      date: new Date().toISOString(),
      machine: await machineInfo(),
      host: { loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((value) => round(value)), otherRunningContainers: otherContainers },
      unit: 'seconds',
      runs: RUNS,
      lifecycle: lifecycleFigures,
      snapshot_1s2w: snap,
      imageLoad: load,
      kubeadm,
      kubeadmPhases: phases ?? kubeadm,
      kubeadmHa: kubeadmHaFigures,
      addonBuild: addons,
      cli: { version: figure(version), status_1s2w },
      targets: {
        reset_1s2w_under_3s: target(snap.reset.kiab.median, '<', 3, ' s'),
        reset_1s2w_within_1_5x_raw_restore: target(snap.reset.ratio, '<=', 1.5, 'x'),
        image_load_3_parallel_at_least_2x_faster_than_sequential: target(load.speedupVsSequential, '>=', 2, 'x'),
        ...(phases ? kubeadmTargets(phases) : {}),
      },
      benchSeconds: round(elapsedSeconds(), 1),
    };
    const text = `${JSON.stringify(result, null, 2)}\n`;
    await writeFile(new URL('./results/latest.json', import.meta.url), text);
    process.stdout.write(text);
  } finally {
    log('cleanup');
    await cleanup();
    log(`done in ${elapsedSeconds().toFixed(0)}s`);
  }
}

await main();
