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
import { conformanceSubset } from './scenarios/conformance.js';
import { lifecycle } from './scenarios/lifecycle.js';
import { NETPOL_CLUSTER, networkPolicy } from './scenarios/network-policy.js';
import { PROXY_MODES_CLUSTER, kubeProxyModes } from './scenarios/kube-proxy-modes.js';
import { DEFAULT_PATH_CLUSTER, defaultPath } from './scenarios/default-path.js';
import { PORTS_CLUSTER, ports } from './scenarios/ports.js';
import { snapshots } from './scenarios/snapshot.js';
import { VERSIONS_CLUSTER, versions } from './scenarios/versions.js';

const RUNS = Number(process.env.KIAB_BENCH_RUNS ?? 3);
const SCENARIOS = [
  'lifecycle',
  'snapshot',
  'imageLoad',
  'kubeadm',
  'kubeadmPhases',
  'kubeadmHa',
  'versions',
  'conformance',
  'addonBuild',
  'ports',
  'networkPolicy',
  'kubeProxyModes',
  'defaultPath',
] as const;
/** KIAB_BENCH_ONLY=kubeadmPhases,conformance runs only those scenarios (and writes results/only-….json). */
const ONLY = process.env.KIAB_BENCH_ONLY?.split(',').map((name) => name.trim());
const wanted = (scenario: (typeof SCENARIOS)[number]): boolean => !ONLY || ONLY.includes(scenario);

/** Everything the bench makes: cluster bench (with its snapshots), the raw objects, the images labelled kiab-bench=1. */
async function cleanup(): Promise<void> {
  const deleted = await attempt('kiab', [
    'delete',
    BENCH_CLUSTER,
    'bench-kubeadm',
    'bench-kubeadm-ha',
    'bench-conformance',
    PHASES_CLUSTER,
    VERSIONS_CLUSTER,
    PORTS_CLUSTER,
    NETPOL_CLUSTER,
    PROXY_MODES_CLUSTER,
    DEFAULT_PATH_CLUSTER,
  ]);
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

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`KIAB_BENCH_RUNS must be a positive integer, not "${process.env.KIAB_BENCH_RUNS}"`);
  const unknown = ONLY?.filter((name) => !(SCENARIOS as readonly string[]).includes(name)) ?? [];
  if (unknown.length) throw new Error(`KIAB_BENCH_ONLY: ${unknown.join(', ')} is not one of ${SCENARIOS.join(', ')}`);
  await must('kiab', ['image', 'build']);
  await cleanup();
  // Other work on the host skews every figure: say how busy it was (kiab and raw runs are interleaved, so both see it).
  const loadAtStart = loadavg().map((value) => round(value));
  const otherContainers = lines(await must('docker', ['ps', '-q'])).length;
  try {
    const skipped = { skipped: 'not in KIAB_BENCH_ONLY' } as const;
    log(`lifecycle: up/delete at 1+0, 1+2, 1+5, ${RUNS} runs`);
    const lifecycleRun = wanted('lifecycle') ? await lifecycle(RUNS) : undefined;

    let snap: Awaited<ReturnType<typeof snapshots>> | undefined;
    if (wanted('snapshot')) {
      log('snapshot: setting up cluster bench (1+2) and the raw machines');
      await must('kiab', ['up', BENCH_CLUSTER, '--k8s', 'none', '--servers', '1', '--workers', '2']);
      const raw = await rawUp(RAW_CLUSTER, RAW_SUBNET, 1, 2);
      snap = await snapshots(RUNS, raw);
      await rawDelete(RAW_CLUSTER);
    }

    let load: Awaited<ReturnType<typeof imageLoad>> | undefined;
    if (wanted('imageLoad')) {
      log('image load: making the image');
      load = await imageLoad(RUNS, await makeLoadImage());
    }

    log('kubeadm: up until Ready and CoreDNS running, and delete');
    const kubeadm = wanted('kubeadm') ? await kubeadmLifecycle(RUNS) : skipped;
    log('kubeadm phases: up 1+2 --no-addons and reset, phase by phase, and idle memory per machine');
    // Both need the kubeadm assets, which the lifecycle scenario checks for.
    const noAssets = 'skipped' in kubeadm && kubeadm.skipped !== skipped.skipped;
    const phases = wanted('kubeadmPhases') && !noAssets ? await kubeadmPhases(RUNS) : undefined;
    log('kubeadm HA: API failover and the load balancer against DNAT');
    const kubeadmHaFigures = !wanted('kubeadmHa') ? skipped : noAssets ? kubeadm : await kubeadmHa(RUNS);
    log('versions: up of the newest and the oldest release, and an upgrade to the newest');
    const versionFigures = wanted('versions') ? await versions(RUNS) : undefined;
    log('conformance: the CI subset through kiab conformance');
    const conformance = wanted('conformance') ? await conformanceSubset(RUNS) : skipped;

    log('ports: kiab port add until the port answers, and port rm, 10 runs');
    const portFigures = wanted('ports') ? await ports() : undefined;

    log('network policy: applied to enforced, the memory of the controller, up with and without it');
    const policyFigures = wanted('networkPolicy') && !noAssets ? await networkPolicy(RUNS) : undefined;

    log('kube-proxy modes: a new Service to its cluster IP answering, per mode');
    const proxyModes = wanted('kubeProxyModes') && !noAssets ? await kubeProxyModes() : undefined;

    log('default path: up 1+1 with the addons (5 runs), reset with them (20 runs)');
    const defaults = wanted('defaultPath') && !noAssets ? await defaultPath() : undefined;

    log('addon assets: build from the Go modules');
    const addons = wanted('addonBuild') ? await addonBuild(RUNS) : skipped;

    const version: number[] = [];
    for (let index = 0; index < Math.max(RUNS, 5); index += 1) version.push(await timed(() => must('kiab', ['--version'])));

    const result = {
      date: new Date().toISOString(),
      machine: await machineInfo(),
      host: { loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((value) => round(value)), otherRunningContainers: otherContainers },
      unit: 'seconds',
      runs: RUNS,
      ...(ONLY ? { only: ONLY } : {}),
      lifecycle: lifecycleRun ? (({ status_1s2w: _, ...figures }) => figures)(lifecycleRun) : skipped,
      snapshot_1s2w: snap ?? skipped,
      imageLoad: load ?? skipped,
      kubeadm,
      kubeadmPhases: phases ?? skipped,
      kubeadmHa: kubeadmHaFigures,
      versions: versionFigures ?? skipped,
      conformance,
      addonBuild: addons,
      ports: portFigures ?? skipped,
      networkPolicy: policyFigures ?? skipped,
      kubeProxyModes: proxyModes ?? skipped,
      defaultPath: defaults ?? skipped,
      cli: { version: figure(version), ...(lifecycleRun ? { status_1s2w: lifecycleRun.status_1s2w } : {}) },
      targets: {
        ...(snap
          ? {
              reset_1s2w_under_2_5s: target(snap.reset.kiab.median, '<', 2.5, ' s'),
              reset_1s2w_within_1_5x_raw_restore: target(snap.reset.ratio, '<=', 1.5, 'x'),
            }
          : {}),
        ...(lifecycleRun ? { up_none_1s2w_with_clean_snapshot_within_1_3x_raw: target(lifecycleRun.upWithCleanSnapshot_1s2w.ratio, '<=', 1.3, 'x') } : {}),
        ...(load ? { image_load_3_parallel_at_least_2x_faster_than_sequential: target(load.speedupVsSequential, '>=', 2, 'x') } : {}),
        ...(phases ? kubeadmTargets(phases) : {}),
        ...(policyFigures
          ? {
              network_policy_controller_idle_memory_1s2w_under_60MiB: target(policyFigures.controllerMemoryTotal.workingSetMiB, '<', 60, ' MiB'),
              ...(policyFigures.up.addedSeconds !== undefined
                ? { up_1s2w_no_addons_with_policy_controller_at_most_1s_more: target(policyFigures.up.addedSeconds, '<=', 1, ' s') }
                : {}),
            }
          : {}),
        ...(defaults
          ? {
              up_1s1w_addons_median_under_20s: target(defaults.up_1s1w.median, '<', 20, ' s'),
              up_1s1w_addons_max_under_25s: target(defaults.up_1s1w.max, '<', 25, ' s'),
              reset_addons_median_under_6s: target(defaults.reset.median, '<', 6, ' s'),
              reset_addons_p95_under_8s: target(defaults.reset.p95, '<', 8, ' s'),
            }
          : {}),
        ...(versionFigures?.newestOverOldest !== undefined
          ? { up_newest_release_within_1_1x_of_oldest: target(versionFigures.newestOverOldest, '<=', 1.1, 'x') }
          : {}),
        ...(versionFigures && 'median' in versionFigures.upgrade_1s2w_addons
          ? { upgrade_1s2w_addons_under_180s: target(versionFigures.upgrade_1s2w_addons.median, '<', 180, ' s') }
          : {}),
      },
      benchSeconds: round(elapsedSeconds(), 1),
    };
    const text = `${JSON.stringify(result, null, 2)}\n`;
    // A partial run (KIAB_BENCH_ONLY) never replaces the full one the README's tables come from.
    await writeFile(new URL(ONLY ? `./results/only-${ONLY.join('-')}.json` : './results/latest.json', import.meta.url), text);
    process.stdout.write(text);
  } finally {
    log('cleanup');
    await cleanup();
    log(`done in ${elapsedSeconds().toFixed(0)}s`);
  }
}

await main();
