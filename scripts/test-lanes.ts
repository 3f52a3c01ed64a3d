// npm test: the unit tests and the end-to-end suites, in lanes that run side by side.
//
// A suite that brings up a Kubernetes cluster spends much of its time waiting on it (image imports, kubelets
// starting, pods pulling), so such suites share the machine well: they run from one queue served by
// KIAB_TEST_CLUSTER_LANES runners (2 by default), longest first as the last run timed them, so that the last one
// to start is a short one. The bare-machine suites run meanwhile in one more lane, whose runner then serves the
// queue too. The unit tests need no engine and keep a core busy for under a minute: beside the cluster suites they
// would only slow them, so they start once the last suite is taken from the queue, in the run's tail, where the
// last suites and the engine's turn leave a core idle. A suite that restarts the engine would pull the machines from
// under every other suite. One that does so only at its end (`// test-lane: engine-turn`) runs from the queue like the
// others, and before the restart asks for the engine to itself (test/e2e/helpers.ts, engineTurn): it is given
// once every other suite has ended. It waits with its machines paused, and another runner serves what is left of
// the queue in its place meanwhile. It is queued where the work left behind it keeps the other runners about as
// long as it takes to come to the restart, so that little of it waits. The suites that need the engine or the host
// to themselves throughout (`// test-lane: alone`) run after all of that, beside only the unit tests (which use
// neither the engine nor any host-wide limit). A suite says which kind it is on its first line (`// test-lane:
// cluster`, `engine-turn` or `alone`; nothing: the bare-machine lane).
//
// Files named on the command line (`npm test -- test/e2e/core.test.ts`) narrow the run to them, in their lanes.
// Each runner is a `node --test` run (one file at a time); its lines are printed as they come, each prefixed with
// the lane's name, and the exit code is the first failing lane's; at the end, each failed run's own account of
// what failed is printed again, where a reader of a long log looks first. The durations of the queued suites (without
// their wait for a turn) are kept in the kiab cache (test-durations.json) for the next run's order; a suite never
// timed goes first.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

type Lane = 'cluster' | 'engine-turn' | 'other' | 'alone';

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
  const marked = /^\/\/ test-lane: (cluster|engine-turn|alone)\b/.exec(first)?.[1];
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
/** The files of each `node --test` run under way that uses the engine, by run. */
const underWay = new Map<ReturnType<typeof spawn>, string[]>();
/** Where a suite asks for the engine to itself, and is given it (see EngineTurns). */
const turnDir = await mkdtemp(join(tmpdir(), 'kiab-engine-turns-'));

/**
 * What each failed run said of its failures, printed again once every lane has ended: the lanes' lines
 * interleave, and a CI log is often read from its end.
 */
const failures: string[] = [];

/**
 * The end of a failed run's output that says what failed: the reporter's own summary (its first 120 lines, as an
 * error may quote pages of a command's output), else the run's last 40 lines.
 */
function failureSummary(prefix: string, lines: string[]): string[] {
  const summary = lines.lastIndexOf('✖ failing tests:');
  return (summary >= 0 ? lines.slice(summary, summary + 120) : lines.slice(-40)).map((line) => `${prefix}${line}`);
}

/**
 * One `node --test` run over some files, each output line prefixed. Resolves to its exit code and seconds taken.
 * A run that uses no engine (`engine: false`) does not keep a suite from its turn with the engine.
 */
function runFiles(name: string, files: string[], { engine = true } = {}): Promise<{ code: number; seconds: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [...NODE_TEST, ...files], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KIAB_TEST_ENGINE_TURNS: turnDir },
  });
  running.add(child);
  if (engine)
    underWay.set(
      child,
      files.map((file) => resolve(file)),
    );
  const prefix = `[${name}] `;
  const said: string[] = [];
  const say = (line: string): void => {
    said.push(line);
    process.stdout.write(`${prefix}${line}\n`);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) say(line);
    });
    stream.on('end', () => rest && say(rest));
  }
  return new Promise((resolve) =>
    child.on('close', (code) => {
      running.delete(child);
      underWay.delete(child);
      if (code !== 0) failures.push(...failureSummary(prefix, said));
      resolve({ code: code ?? 1, seconds: Math.round((Date.now() - started) / 1000) });
    }),
  );
}

function report(name: string, files: number, code: number, seconds: number): void {
  process.stdout.write(`[${name}] == ${files} files, ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${seconds}s\n`);
}

/** A lane that runs its files under one runner. */
async function runLane(name: string, files: string[], options: { engine?: boolean } = {}): Promise<number> {
  if (files.length === 0) return 0;
  const { code, seconds } = await runFiles(name, files, options);
  report(name, files.length, code, seconds);
  return code;
}

/**
 * The engine, one suite at a time: a suite asks by writing `ID.wants` (its own file's path) in the turn folder
 * and waits for `ID.granted`. A turn is given once the queue is empty and every run under way is one that asks,
 * and never while a suite given one still runs. A suite that asks waits with its machines paused, so its runner
 * does no work meanwhile: `onAsked` is told, to start another runner in its place. How long each suite waited is
 * kept, so that its duration counts only its own work.
 */
class EngineTurns {
  readonly waited: Record<string, number> = {};
  private readonly asked = new Map<string, number>();
  private readonly given = new Set<string>();
  private readonly timer = setInterval(() => void this.give(), 500);

  constructor(
    private readonly queue: string[],
    private readonly onAsked: () => void,
  ) {}

  stop(): void {
    clearInterval(this.timer);
  }

  private async give(): Promise<void> {
    const names = await readdir(turnDir).catch(() => [] as string[]);
    const wanting = new Map<string, string>();
    for (const name of names.filter((candidate) => candidate.endsWith('.wants'))) {
      const id = name.slice(0, -'.wants'.length);
      if (names.includes(`${id}.granted`)) continue;
      wanting.set(id, (await readFile(join(turnDir, name), 'utf8').catch(() => '')).trim());
      if (!this.asked.has(id)) {
        this.asked.set(id, Date.now());
        this.onAsked();
      }
    }
    const runs = [...underWay.values()];
    const asking = new Set(wanting.values());
    if (runs.some((files) => files.some((file) => this.given.has(file)))) return;
    const next = [...wanting].sort(([a], [b]) => this.asked.get(a)! - this.asked.get(b)!)[0];
    if (!next || this.queue.length > 0 || !runs.every((files) => files.some((file) => asking.has(file)))) return;
    const [id, file] = next;
    this.given.add(file);
    this.waited[file] = Math.round((Date.now() - this.asked.get(id)!) / 1000);
    process.stdout.write(`[turns] == ${file} has the engine to itself, after waiting ${this.waited[file]}s\n`);
    await writeFile(join(turnDir, `${id}.granted`), '');
  }
}

/**
 * The queue: the cluster suites longest first; each engine-turn suite where the work queued behind it is about
 * what the other `others` runners need to keep busy while it comes to its turn (its own time, as last run),
 * so that it waits little for the turn; one never timed goes last, where it cannot wait long.
 */
function queueOrder(cluster: string[], engineTurn: string[], durations: Record<string, number>, others: number): string[] {
  const queue = [...cluster].sort((a, b) => (durations[b] ?? Number.MAX_SAFE_INTEGER) - (durations[a] ?? Number.MAX_SAFE_INTEGER));
  for (const file of engineTurn) {
    const own = durations[file];
    let at = queue.length;
    for (let behind = 0; own !== undefined && at > 0 && behind < own * others;) behind += durations[queue[--at]!] ?? own;
    queue.splice(at, 0, file);
  }
  return queue;
}

/**
 * The queue's runners: `serve(name)` is one runner; it takes the next file until none is left, and keeps each
 * file's time, less its wait for a turn, for the next run's order. `whenEmpty` is told once a runner takes the
 * queue's last file, or finds it empty.
 */
function servedBy(queue: string[], durations: Record<string, number>, turns: EngineTurns, whenEmpty: () => void): (name: string) => Promise<number> {
  return async (name) => {
    let failed = 0;
    let served = 0;
    const started = Date.now();
    for (let file = queue.shift(); file !== undefined && !process.exitCode; file = queue.shift()) {
      if (queue.length === 0) whenEmpty();
      const { code, seconds } = await runFiles(name, [file]);
      served++;
      if (code === 0) durations[file] = seconds - (turns.waited[resolve(file)] ?? 0);
      process.stdout.write(`[${name}] == ${file}: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${seconds}s\n`);
      failed ||= code;
    }
    whenEmpty();
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
const lanes: Record<Lane, string[]> = { cluster: [], 'engine-turn': [], other: [], alone: [] };
for (const file of chosen(await testFiles('test/e2e'))) lanes[await laneOf(file)].push(file);
const unit = chosen(await testFiles('test/unit'));

const durations = await readDurations();
const queue = queueOrder(lanes.cluster, lanes['engine-turn'], durations, runners);
/** Every lane under way or ended; a runner started in place of one whose suite waits for its turn joins it. */
const sideBySide: Array<Promise<number>> = [];
const laneName = (index: number): string => (runners === 1 ? 'cluster' : `cluster-${index + 1}`);
// The bare-machine lane's runner is cluster-N+1; runners started in place of a waiting suite count on from there.
let laneCount = runners + 1;
const startRunner = (): void => {
  if (queue.length === 0 || process.exitCode) return;
  sideBySide.push(serve(`cluster-${++laneCount}`));
};
const turns = new EngineTurns(queue, startRunner);
let unitRun: Promise<number> | undefined;
const runUnits = (): Promise<number> => (unitRun ??= process.exitCode ? Promise.resolve(0) : runLane('unit', unit, { engine: false }));
const serve = servedBy(queue, durations, turns, () => void runUnits());
const firstRunners = Math.min(runners, queue.length);
for (let index = 0; index < firstRunners; index++) sideBySide.push(serve(laneName(index)));
// The bare-machine suites end long before the queue does: their runner then serves it too. Also after a failure
// there: the cluster suites still run to the end, and the run reports each one.
sideBySide.push(
  (async () => {
    const other = await runLane('other', lanes.other);
    const queued = await serve(`cluster-${runners + 1}`);
    return other || queued;
  })(),
);
// A lane is added only while the queue has files, so while every lane is still under way: this loop sees it.
const laneCodes: number[] = [];
for (let index = 0; index < sideBySide.length; index++) laneCodes.push(await sideBySide[index]!);
turns.stop();
await rm(turnDir, { recursive: true, force: true });
await mkdir(dirname(DURATIONS), { recursive: true });
await writeFile(DURATIONS, `${JSON.stringify(durations, null, 2)}\n`);
// The suites that need the engine or the host to themselves run beside the unit tests, which need neither.
const [alone, units] = await Promise.all([process.exitCode ? 0 : runLane('alone', lanes.alone), runUnits()]);
const failed = [...laneCodes, alone, units].find((code) => code !== 0);
if (failures.length > 0) process.stdout.write(`== what failed, as each failed run reported it:\n${failures.join('\n')}\n`);
if (failed !== undefined && !process.exitCode) process.exitCode = failed;
