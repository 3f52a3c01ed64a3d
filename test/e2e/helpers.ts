import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { access, mkdtemp, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KIAB = fileURLToPath(new URL('../../bin/kiab.mjs', import.meta.url));

let tempRoot: string | undefined;
/**
 * A fresh folder for a test's files (asset caches of a gigabyte among them), inside one folder per test file
 * that goes, with everything in it, when the test process ends: a CI machine must not fill up run after run.
 */
export async function tempDir(prefix: string): Promise<string> {
  if (!tempRoot) {
    tempRoot = mkdtempSync(join(tmpdir(), 'kiab-e2e-'));
    process.on('exit', () => rmSync(tempRoot!, { recursive: true, force: true }));
  }
  return mkdtemp(join(tempRoot, prefix));
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with an argument array (never a shell string) and collects its output. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    // A command that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The built CLI, as a user runs it. */
export function kiab(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return run(process.execPath, [KIAB, ...args], options);
}

export function spawnKiab(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, [KIAB, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
}

/** A kiab started in the background, its stderr collected as it comes. */
export function startKiab(args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; stderr: () => string } {
  const child = spawnKiab(args, env);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stderr: () => stderr };
}

/** Presses Ctrl-C on a running kiab and checks it stopped as promised: exit 130, "interrupted", within 3 s. Returns its stderr. */
export async function assertInterrupts(running: { child: ChildProcess; stderr: () => string }): Promise<string> {
  const interrupted = Date.now();
  running.child.kill('SIGINT');
  const [code] = (await once(running.child, 'close')) as [number | null];
  assert.equal(code, 130, running.stderr());
  assert.ok(Date.now() - interrupted < 3_000, `took ${Date.now() - interrupted} ms to stop`);
  assert.match(running.stderr(), /^kiab: interrupted/m);
  return running.stderr();
}

/** Resolves once a process has exited (dockerd after SIGTERM). */
export async function processGone(pid: number): Promise<void> {
  await eventually(
    async () => {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      throw new Error(`process ${pid} still running`);
    },
    60_000,
    200,
  );
}

/** Like kiab(), but fails the test with kiab's stderr when it exits non-zero. */
export async function kiabOk(args: string[]): Promise<Run> {
  const result = await kiab(args);
  if (result.code !== 0) throw new Error(`kiab ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result;
}

export async function kiabJson<T = unknown>(args: string[]): Promise<T> {
  const result = await kiabOk([...args, '-o', 'json']);
  return JSON.parse(result.stdout) as T;
}

/** The docker CLI: an independent view of what kiab made, for assertions. */
export async function docker(args: string[]): Promise<string> {
  const result = await run('docker', args);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** Names of every object labelled with the cluster, by kind, straight from the engine. */
export async function labelledObjects(cluster: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const filter = `label=dev.kiab.cluster=${cluster}`;
  const lines = (text: string): string[] => text.split('\n').filter(Boolean);
  return {
    containers: lines(await docker(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'])),
    networks: lines(await docker(['network', 'ls', '--filter', filter, '--format', '{{.Name}}'])),
    volumes: lines(await docker(['volume', 'ls', '--filter', filter, '--format', '{{.Name}}'])),
  };
}

/** Reads what a TCP server sends on connect; rejects on timeout or refusal. */
/** Connects, sends `request` if given, and resolves with everything read until the far end closes. */
export function readTcp(host: string, port: number, timeoutMs = 5000, request?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      if (request !== undefined) socket.write(request);
    });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms (got "${data}")`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      // A proxy accepts before the far end listens, then closes: that is no answer yet.
      if (data === '') reject(new Error(`${host}:${port} closed without answering`));
      else resolve(data);
    });
  });
}

/** Retries a check until it passes or the deadline passes, returning its last value. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/**
 * A GET over node:http, with its own (ref'd) deadline. Node 20's fetch can leave its promise pending with nothing
 * holding the event loop when a port accepts and drops the connection, as a just-published port of a container
 * not yet listening does: node --test then ends the file under it.
 */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => request.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const request = httpRequest(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, headers: response.headers as Record<string, string>, body });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end();
  });
}

/** Starts a one-line TCP greeter in a machine as a transient systemd unit. */
export async function startGreeter(node: string, port: number): Promise<void> {
  await kiabOk([
    'exec',
    node,
    '--',
    'systemd-run',
    `--unit=kiab-test-greeter-${port}`,
    'socat',
    `TCP-LISTEN:${port},fork,reuseaddr`,
    `SYSTEM:echo greeting-from-$(hostname)`,
  ]);
}

export interface StatusJson {
  name: string;
  state: string;
  address: string | null;
  distribution: string | null;
  box: { name: string; state: string; ip: string | null };
  registry: { host: string; fromMachines: string; fromClusterNetwork: string } | null;
  nodes: Array<{ name: string; role: string; index: number; state: string; system: string | null; ip: string | null; failedUnits: string[] }>;
  ports: Array<{
    name: string;
    host: string | null;
    box: string;
    via: 'load-balancer' | 'forward' | 'box';
    backends: Array<{ machine: string; address: string; health: string }>;
  }>;
}

export function hostPort(status: StatusJson, name: string): number {
  const host = status.ports.find((port) => port.name === name)?.host;
  if (!host) throw new Error(`no host port ${name} in status`);
  return Number(host.split(':')[1]);
}

let madeImages: Set<string> | undefined;
/**
 * `docker import` of a tar as image `ref`, removed from the engine when the test process ends: each import is a
 * new image, so one left tagged per run would leave one more untagged image on a CI machine every run.
 */
export async function importImage(tar: string, ref: string, entrypoint: string): Promise<void> {
  if (!madeImages) {
    const made = (madeImages = new Set());
    process.on('exit', () => void spawnSync('docker', ['rmi', '--force', ...made], { stdio: 'ignore', timeout: 30_000 }));
  }
  madeImages.add(ref);
  await docker(['import', '--change', `ENTRYPOINT ["${entrypoint}"]`, tar, ref]);
}

/** A tiny image made on the host with no registry: the static busybox from Debian's busybox-static. */
export async function makeBusyboxImage(ref: string): Promise<void> {
  const dir = await tempDir('kiab-img-');
  const tar = await run('tar', ['-C', '/bin', '-cf', join(dir, 'busybox.tar'), 'busybox']);
  if (tar.code !== 0) throw new Error(`tar: ${tar.stderr}`);
  await importImage(join(dir, 'busybox.tar'), ref, '/busybox');
}

/**
 * Under `npm test`, waits until the lanes give this suite the engine to itself, every other suite having ended
 * (scripts/test-lanes.ts, EngineTurns). A suite run by itself has it already. Asked once per suite: a second ask
 * would wait on the suite's own turn.
 *
 * `idle` names a cluster the suite keeps for after its turn: its machines are paused while the suite waits and
 * unpaused once the turn is given. An HA cluster left running there took its share of the CPU from every suite
 * still running, for the minutes of the wait; the caller checks that the cluster works again before going on.
 */
export function engineTurn(idle?: string): Promise<void> {
  return (turn ??= askForTurn(idle));
}

let turn: Promise<void> | undefined;

async function askForTurn(idle: string | undefined): Promise<void> {
  const turns = process.env.KIAB_TEST_ENGINE_TURNS;
  if (!turns) return;
  const id = randomUUID();
  await writeFile(join(turns, `${id}.wants`), process.argv[1] ?? '');
  const running = idle
    ? (await docker(['ps', '-q', '--filter', `label=dev.kiab.cluster=${idle}`, '--filter', 'status=running'])).split('\n').filter(Boolean)
    : [];
  // On a cgroup v1 host runc gives up on freezing a busy machine ("unable to freeze"), and a later try takes
  // (as kiab's own capture does: src/cluster/snapshot/freeze.ts). One that never does waits running: the
  // pause saves CPU, it is not what the suite checks.
  const paused: string[] = [];
  for (const id of running)
    await eventually(() => docker(['pause', id]), 30_000, 500).then(
      () => paused.push(id),
      () => undefined,
    );
  try {
    // Within the test's own time (npm test gives each 15 minutes), so that a turn never given fails as that.
    await eventually(() => access(join(turns, `${id}.granted`)), 12 * 60_000, 1000).catch((error: unknown) => {
      throw new Error(`the test lanes did not give this suite the engine within 12 minutes: ${String(error)}`);
    });
  } finally {
    if (paused.length > 0) await docker(['unpause', ...paused]);
  }
}

/**
 * Stops dockerd as a host shutdown would (SIGTERM) and starts it again with the same command line; resolves when
 * it answers. Under `npm test` only once this suite has the engine to itself (see engineTurn).
 */
export async function restartEngine(): Promise<void> {
  await engineTurn();
  const { openSync } = await import('node:fs');
  const { readFile } = await import('node:fs/promises');
  const { spawn } = await import('node:child_process');
  const pidof = await run('pidof', ['dockerd']);
  const pid = Number(pidof.stdout.trim().split(/\s+/)[0]);
  if (!(pid > 0)) throw new Error('dockerd is not running');
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  process.kill(pid, 'SIGTERM');
  await processGone(pid);
  const log = openSync('/var/log/dockerd.log', 'a');
  spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] }).unref();
  await eventually(() => docker(['info', '--format', '{{.ServerVersion}}']), 60_000, 500);
}
