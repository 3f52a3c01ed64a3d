// npm test: the unit tests and the end-to-end suites, in lanes that run side by side.
//
// A suite that brings up a Kubernetes cluster spends most of its time waiting on it, and most of the other suites
// work on bare machines, so the two kinds share the engine well: one lane runs the cluster suites one after
// another while the other runs the unit tests and the rest. A suite that restarts the engine would pull the
// machines from under every other suite, so those run alone, after both lanes. A suite says which kind it is on
// its first line: `// test-lane: cluster` or `// test-lane: alone` (nothing: the other lane).
//
// Files named on the command line (`npm test -- test/e2e/core.test.ts`) narrow the run to them, in their lanes.
// Each lane is one `node --test` run over its files (one file at a time); its lines are printed as they come,
// each prefixed with the lane's name, and the exit code is the first failing lane's.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

type Lane = 'cluster' | 'other' | 'alone';

const NODE_TEST = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=900000', '--test-reporter=spec'];

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

const running = new Set<ReturnType<typeof spawn>>();

/** One lane: its files under one runner, each output line prefixed. Resolves to the runner's exit code. */
function runLane(name: string, files: string[]): Promise<number> {
  if (files.length === 0) return Promise.resolve(0);
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
    child.on('close', (code, signal) => {
      running.delete(child);
      const seconds = Math.round((Date.now() - started) / 1000);
      process.stdout.write(`${prefix}== ${files.length} files, ${code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`} in ${seconds}s\n`);
      resolve(code ?? 1);
    }),
  );
}

// Ctrl-C or a CI timeout reaches every lane, so that no suite is left running with its clusters.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    for (const child of running) child.kill(signal);
    process.exitCode = signal === 'SIGINT' ? 130 : 143;
  });

const named = process.argv.slice(2);
const chosen = (files: string[]): string[] => (named.length ? files.filter((file) => named.some((name) => join(name) === file)) : files);
const lanes: Record<Lane, string[]> = { cluster: [], other: [], alone: [] };
for (const file of chosen(await testFiles('test/e2e'))) lanes[await laneOf(file)].push(file);
const unit = chosen(await testFiles('test/unit'));

const sideBySide = await Promise.all([runLane('cluster', lanes.cluster), runLane('other', [...unit, ...lanes.other])]);
const alone = process.exitCode ? 0 : await runLane('alone', lanes.alone);
const failed = [...sideBySide, alone].find((code) => code !== 0);
if (failed !== undefined && !process.exitCode) process.exitCode = failed;
