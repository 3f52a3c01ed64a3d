// npm test: the unit tests and the end-to-end suites, in lanes that run side by side.
//
// A suite that brings up a Kubernetes cluster spends much of its time waiting on it (image imports, kubelets
// starting, pods pulling), so such suites share the machine well: they run from one queue served by
// KIAB_TEST_CLUSTER_LANES runners (2 by default), longest first as the last run timed them, so that the last one
// to start is a short one. The bare-machine suites run meanwhile in one more lane, whose runner then serves the
// queue too. A suite that restarts the engine would pull the machines from under every other suite, so those run
// alone, after the rest. A suite says which kind it is on its first line: `// test-lane: cluster` or
// `// test-lane: alone` (nothing: the other lane). The unit tests need no engine: they run beside the alone
// suites, which leave part of the CPU idle while the side-by-side lanes keep it busy.
//
// Files named on the command line (`npm test -- test/e2e/core.test.ts`) narrow the run to them, in their lanes.
// Each runner is a `node --test` run (one file at a time); its lines are printed as they come, each prefixed with
// the lane's name, and the exit code is the first failing lane's. The durations of the cluster suites are kept
// in the kiab cache (test-durations.json) for the next run's order; a suite never timed goes first.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

type Lane = 'cluster' | 'other' | 'alone';

const NODE_TEST = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=900000', '--test-reporter=spec'];
const DURATIONS = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kiab', 'test-durations.json');

function clusterRunners(): number {
  const raw = process.env.KIAB_TEST_CLUSTER_LANES ?? '2';
  const count = Number(raw);
  if (Number.isInteger(count) && count >= 1) return count;
  process.stderr.write(`KIAB_TEST_CLUSTER_LANES: "${raw}" is not a whole number of 1 or more\n`);
  process.exit(2);
}

async function laneOf(file: string): Promise<Lane> {
  const first = (await readFile(file, 'utf8')).split('\n', 1)[0] ?? '';
  const marked = /^\/\/ test-lane: (cluster|alone)\b/.exec(first)?.[1];
  return (marked as Lane | undefined) ?? 'other';
}

async function testFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => join(dir, name));
}

async function readDurations(): Promise<Record<string, number>> {
  try {
    return JSON.parse(await readFile(DURATIONS, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

const running = new Set<ReturnType<typeof spawn>>();

/** One `node --test` run over some files, each output line prefixed. Resolves to its exit code and seconds taken. */
function runFiles(name: string, files: string[]): Promise<{ code: number; seconds: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [...NODE_TEST, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
    stream.on('end', () => rest && process.stdout.write(`${prefix}${rest}\n`));
  }
  return new Promise((resolve) =>
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code: code ?? 1, seconds: Math.round((Date.now() - started) / 1000) });
    }),
  );
}

function report(name: string, files: number, code: number, seconds: number): void {
  process.stdout.write(`[${name}] == ${files} files, ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${seconds}s\n`);
}

/** A lane that runs its files under one runner. */
async function runLane(name: string, files: string[]): Promise<number> {
  if (files.length === 0) return 0;
  const { code, seconds } = await runFiles(name, files);
  report(name, files.length, code, seconds);
  return code;
}

/**
 * The cluster suites' queue, longest first. `serve(name)` is one runner: it takes the next file until none is
 * left, and keeps each file's time for the next run's order.
 */
function clusterQueue(files: string[], durations: Record<string, number>): (name: string) => Promise<number> {
  const queue = [...files].sort((a, b) => (durations[b] ?? Number.MAX_SAFE_INTEGER) - (durations[a] ?? Number.MAX_SAFE_INTEGER));
  return async (name) => {
    let failed = 0;
    let served = 0;
    const started = Date.now();
    for (let file = queue.shift(); file !== undefined && !process.exitCode; file = queue.shift()) {
      const { code, seconds } = await runFiles(name, [file]);
      served++;
      if (code === 0) durations[file] = seconds;
      process.stdout.write(`[${name}] == ${file}: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${seconds}s\n`);
      failed ||= code;
    }
    if (served) report(name, served, failed, Math.round((Date.now() - started) / 1000));
    return failed;
  };
}

// Ctrl-C or a CI timeout reaches every lane, so that no suite is left running with its clusters.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    for (const child of running) child.kill(signal);
    process.exitCode = signal === 'SIGINT' ? 130 : 143;
  });

const runners = clusterRunners();
const named = process.argv.slice(2);
const chosen = (files: string[]): string[] => (named.length ? files.filter((file) => named.some((name) => join(name) === file)) : files);
const lanes: Record<Lane, string[]> = { cluster: [], other: [], alone: [] };
for (const file of chosen(await testFiles('test/e2e'))) lanes[await laneOf(file)].push(file);
const unit = chosen(await testFiles('test/unit'));

const durations = await readDurations();
const serve = clusterQueue(lanes.cluster, durations);
const laneName = (index: number): string => (runners === 1 ? 'cluster' : `cluster-${index + 1}`);
const clusterLanes = Array.from({ length: Math.min(runners, lanes.cluster.length) }, (_, index) => serve(laneName(index)));
// The bare-machine suites end long before the cluster queue does: their runner then serves the queue too.
// Also after a failure there: the cluster suites still run to the end, and the run reports each one.
const otherLane = runLane('other', lanes.other).then(async (code) => {
  const queued = await serve(`cluster-${runners + 1}`);
  return code || queued;
});
const sideBySide = await Promise.all([...clusterLanes, otherLane]);
await mkdir(dirname(DURATIONS), { recursive: true });
await writeFile(DURATIONS, `${JSON.stringify(durations, null, 2)}\n`);
const lastLanes = process.exitCode ? [] : await Promise.all([runLane('alone', lanes.alone), runLane('unit', unit)]);
const failed = [...sideBySide, ...lastLanes].find((code) => code !== 0);
if (failed !== undefined && !process.exitCode) process.exitCode = failed;
