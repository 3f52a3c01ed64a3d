import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hostArch, verifiedAssets, type AssetManifest } from '../../assets/cache.js';
import { KiabError, UsageError } from '../../errors.js';
import { runProcess } from '../../process.js';
import { run } from '../../provider/run.js';
import type { Provider } from '../../provider/types.js';
import { runStep, type Reporter } from '../../reporter.js';
import { loadCluster, type LoadedCluster } from '../context.js';
import { readPassReport, specProgress, type ConformanceFailure, type PassResult } from './conformance-report.js';
import { loadImages } from '../image-load.js';
import { mirroredImages, mirrorSuiteImages } from './pull-mirror.js';
import { kubeconfigOf } from '../kubernetes/kubeconfig.js';

export const DEFAULT_FOCUS = String.raw`\[Conformance\]`;

export interface ConformanceOptions {
  provider: Provider;
  cluster: string;
  reporter: Reporter;
  /** Specs whose full name matches (a Go regular expression); default every `[Conformance]` spec. */
  focus?: string;
  skip?: string;
  /** ginkgo processes for the specs that may run side by side. */
  parallel: number;
  /** For the whole run, both passes. */
  timeoutMs: number;
  /** Where the reports go; a fresh folder in the working directory by default. */
  reportDir?: string;
  signal?: AbortSignal;
}

export interface ConformanceSummary {
  cluster: string;
  kubernetesVersion: string;
  focus: string;
  skip: string | null;
  passed: number;
  failed: number;
  skipped: number;
  durationSeconds: number;
  reportDir: string;
  junit: string[];
  failures: ConformanceFailure[];
}

/** v1.36.4+k3s1 -> v1.36.4: the suite is upstream's, built for the upstream release a distribution ships. */
function upstreamVersion(version: string): string {
  const plain = version.replace(/\+.*$/, '');
  return plain.startsWith('v') ? plain : `v${plain}`;
}

function defaultReportDir(cluster: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return resolve(`kiab-conformance-${cluster}-${stamp}`);
}

/** How many specs a pass would run: e2e.test's dry run, which also refuses a focus that is no regular expression. */
async function countSpecs(e2e: string, focus: string, skip: string | undefined, labels: string, signal?: AbortSignal): Promise<number> {
  const args = ['--ginkgo.dry-run', '--ginkgo.no-color', `--ginkgo.focus=${focus}`, `--ginkgo.label-filter=${labels}`];
  if (skip) args.push(`--ginkgo.skip=${skip}`);
  const output = await runProcess(e2e, args, { what: 'listing the selected specs', hint: 'check --focus and --skip', ...(signal ? { signal } : {}) });
  const ran = /^Ran (\d+) of \d+ Specs/m.exec(output);
  if (!ran) throw new KiabError('e2e.test --ginkgo.dry-run did not say how many specs it selected');
  return Number(ran[1]);
}

/** The label that says which archive (by its checksum) an image in a machine came from. */
const ARCHIVE_LABEL = 'dev.kiab.archive-sha256';

/**
 * Test images into each of `machines` through `image load`. A machine whose image carries the checksum of the
 * same archive already has it (a second run on a cluster loads nothing); one holding another image under that
 * name (an older build of the suite) gets it again.
 */
async function loadSuiteImages(
  cluster: LoadedCluster,
  machines: LoadedCluster['machines'],
  suite: { dir: string; manifest: AssetManifest },
  images: Array<[string, string]>,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<void> {
  if (images.length === 0) return;
  const ctr = cluster.distribution.ctr();
  const listings = new Map<string, string[]>();
  for (const machine of machines) {
    const listed = await run(cluster.provider, machine.name, [...ctr, 'images', 'ls'], { what: 'listing images' });
    listings.set(machine.name, listed.stdout.split('\n'));
  }
  for (const [archive, ref] of images) {
    const mark = `${ARCHIVE_LABEL}=${suite.manifest.files[archive]?.sha256 ?? ''}`;
    const holds = (machine: string): boolean =>
      (listings.get(machine) ?? []).some((line) => line.startsWith(`${ref} `) && line.split(/\s+/).some((column) => column.split(',').includes(mark)));
    const nodes = machines.map((machine) => machine.name).filter((machine) => !holds(machine));
    if (nodes.length === 0) continue;
    await loadImages({
      provider: cluster.provider,
      cluster: cluster.spec.name,
      images: [],
      archive: join(suite.dir, archive),
      nodes,
      reporter,
      ...(signal ? { signal } : {}),
    });
    for (const machine of nodes) await run(cluster.provider, machine, [...ctr, 'images', 'label', ref, mark], { what: 'labelling a test image' });
  }
}

/**
 * `kiab conformance`: Kubernetes' own conformance suite against a cluster, offline. The test images are served
 * by the cluster registry (see mirrorSuiteImages), or go into every machine through `image load` without one; e2e.test runs on the host under the
 * ginkgo CLI against the published API port, first the specs that may share the cluster (in parallel), then
 * the `[Serial]` ones alone. The result is the suite's JUnit and ginkgo JSON reports per pass plus
 * summary.json in the report folder.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceSummary> {
  const { provider, cluster, reporter, signal } = options;
  await provider.ping();
  const loaded = await loadCluster(provider, cluster);
  if (!loaded.distribution.kubernetes) throw new UsageError(`NAME: cluster ${cluster} runs no Kubernetes (--k8s none), so there is nothing to test`);
  const version = upstreamVersion(loaded.spec.kubernetesVersion ?? loaded.distribution.defaultVersion ?? '');
  const suite = await verifiedAssets({ distribution: 'conformance', version, arch: hostArch() });
  if (!suite)
    throw new KiabError(`no conformance suite for Kubernetes ${version} in the cache`, {
      hint: `pull upstream's with \`kiab assets pull --k8s kubeadm --k8s-version ${version} --conformance\`, or build it from source with \`kiab assets build --k8s kubeadm --k8s-version ${version} --conformance\` (needs Go)`,
    });

  const e2e = join(suite.dir, 'bin', 'e2e.test');
  const focus = options.focus ?? DEFAULT_FOCUS;
  const passes = [
    { name: 'parallel', labels: '!Serial', nodes: options.parallel },
    { name: 'serial', labels: 'Serial', nodes: 1 },
  ];
  const selected = await Promise.all(passes.map((pass) => countSpecs(e2e, focus, options.skip, pass.labels, signal)));
  if (selected.every((count) => count === 0)) throw new UsageError(`--focus: "${focus}" selects no spec of the suite`);

  const reportDir = resolve(options.reportDir ?? defaultReportDir(cluster));
  await mkdir(reportDir, { recursive: true });
  // A folder used before holds that run's reports: none of them may be read back as this run's.
  await rm(join(reportDir, 'summary.json'), { force: true });
  const { mirrored, loaded: imported } = mirroredImages(loaded, suite.manifest.images);
  await loadSuiteImages(loaded, loaded.machines, suite, imported, reporter, signal);
  const unmirror = mirrored.length
    ? await runStep(reporter, 'serve the test images from the cluster registry', () => mirrorSuiteImages(loaded, suite.dir, mirrored, signal))
    : () => Promise.resolve();

  // The admin kubeconfig lives only as long as the run, in a folder of its own (0700), never in the reports.
  const secrets = await mkdtemp(join(tmpdir(), 'kiab-conformance-'));
  const start = performance.now();
  try {
    const kubeconfig = join(secrets, 'kubeconfig');
    await writeFile(kubeconfig, (await kubeconfigOf(provider, cluster, 'localhost')).kubeconfig, { mode: 0o600 });
    const results: PassResult[] = [];
    const junit: string[] = [];
    for (const [index, pass] of passes.entries()) {
      // A pass the focus selects nothing from would still spend the framework's setup on the cluster.
      if (selected[index] === 0) continue;
      const remainingMs = options.timeoutMs - (performance.now() - start);
      if (remainingMs <= 0) {
        // Specs that never ran did not pass: the run fails, and says why.
        const message = `not run: the --timeout of ${Math.round(options.timeoutMs / 1000)}s ran out before the ${pass.name} specs`;
        results.push({ passed: 0, failed: 1, skipped: 0, failures: [{ spec: `[${pass.name} specs]`, state: 'timedout', message, location: null }] });
        continue;
      }
      const args = [
        `--nodes=${pass.nodes}`,
        `--focus=${focus}`,
        ...(options.skip ? [`--skip=${options.skip}`] : []),
        `--label-filter=${pass.labels}`,
        `--timeout=${Math.ceil(remainingMs / 1000)}s`,
        '--no-color',
        '-v',
        '--silence-skips',
        e2e,
        '--',
        `--kubeconfig=${kubeconfig}`,
        '--provider=skeleton',
        `--kubectl-path=${join(suite.dir, 'bin', 'kubectl')}`,
        // The suite writes its reports itself: junit_01.xml, and ginkgo/report.json with every spec's outcome.
        `--report-dir=${join(reportDir, pass.name)}`,
        '--report-complete-ginkgo',
      ];
      await rm(join(reportDir, pass.name), { recursive: true, force: true });
      const finished = specProgress();
      await runStep(reporter, `${pass.name} specs (${pass.nodes} at a time)`, (progress) =>
        runProcess(join(suite.dir, 'bin', 'ginkgo'), args, {
          what: `the ${pass.name} conformance specs`,
          // ginkgo exits 1 when a spec failed: the reports say which, and that is the answer, not an error.
          okStatuses: [1],
          // ginkgo stops its suite processes on SIGINT (their cleanup deletes the test namespaces); SIGTERM it may ignore.
          interruptGraceMs: 15_000,
          onLine: (line) => {
            const spec = finished(line);
            if (spec) reporter.info(spec);
            else progress.update(line);
          },
          ...(signal ? { signal } : {}),
        }),
      );
      results.push(await readPassReport(join(reportDir, pass.name, 'ginkgo', 'report.json')));
      junit.push(join(reportDir, pass.name, 'junit_01.xml'));
    }
    const summary: ConformanceSummary = {
      cluster,
      kubernetesVersion: version,
      focus,
      skip: options.skip ?? null,
      passed: results.reduce((total, result) => total + result.passed, 0),
      failed: results.reduce((total, result) => total + result.failed, 0),
      skipped: results.reduce((total, result) => total + result.skipped, 0),
      durationSeconds: Math.round((performance.now() - start) / 100) / 10,
      reportDir,
      junit,
      failures: results.flatMap((result) => result.failures),
    };
    await writeFile(join(reportDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  } finally {
    await rm(secrets, { recursive: true, force: true });
    await unmirror();
  }
}
