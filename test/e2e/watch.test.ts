import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { KIAB, kiab, kiabOk, run, spawnKiab } from './helpers.js';

const CLUSTER = 'fb-watch';

/** Collects a process's stdout until `enough` says so, then presses Ctrl-C the way `press` does; resolves to the exit code and output. */
async function watchUntil(
  child: ChildProcess,
  enough: (stdout: string) => boolean,
  press: () => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let pressed = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!pressed && enough(stdout)) {
      pressed = true;
      press();
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(killer);
  return { code, stdout, stderr };
}

describe('kiab status --watch', () => {
  before(async () => {
    await kiab(['delete', CLUSTER]);
    await kiabOk(['up', CLUSTER, '--k8s', 'none', '--workers', '0', '--no-snapshot']);
  });
  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('in a log: prints the full status at every refresh, a blank line between, and ends with exit 0 on Ctrl-C', async () => {
    const child = spawnKiab(['status', CLUSTER, '--watch', '--interval', '1s']);
    const frames = (stdout: string): string[] => stdout.split('\n\nCluster ').filter((frame) => frame.includes('kiab-fb-watch-server-0'));
    const result = await watchUntil(
      child,
      (stdout) => frames(stdout).length >= 3,
      () => child.kill('SIGINT'),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.ok(frames(result.stdout).length >= 3, result.stdout);
    assert.ok(result.stdout.startsWith('Cluster '), 'starts with the status, no screen control');
    assert.ok(!result.stdout.includes('\x1b'), 'no escape sequences in a log');
    assert.equal(result.stderr, '', 'Ctrl-C is the way a watch ends: no "interrupting" notice');
  });

  it('with -o json: one status document per line', async () => {
    const child = spawnKiab(['status', CLUSTER, '--watch', '--interval', '1s', '-o', 'json']);
    const result = await watchUntil(
      child,
      (stdout) => stdout.split('\n').length > 2,
      () => child.kill('SIGINT'),
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.ok(lines.length >= 2);
    for (const line of lines) assert.equal((JSON.parse(line) as { name: string }).name, CLUSTER);
  });

  it('on a terminal: redraws in place and Ctrl-C typed at the terminal ends it with exit 0', async (context) => {
    if ((await run('script', ['--version'])).code !== 0) return context.skip('no `script` (util-linux) to give kiab a terminal');
    // script gives kiab a pseudo-terminal; the ^C written to it reaches kiab as SIGINT, the way a keyboard's does.
    const child = spawn('script', ['-qfec', `stty cols 150 rows 50; exec ${process.execPath} ${KIAB} status ${CLUSTER} --watch --interval 1s`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const redraws = (stdout: string): number => stdout.split('\x1b[H').length - 1;
    const result = await watchUntil(
      child,
      (stdout) => redraws(stdout) >= 3,
      () => child.stdin!.write('\x03'),
    );
    assert.equal(result.code, 0, result.stdout);
    assert.ok(result.stdout.includes('\x1b[2J'), 'clears the screen once');
    assert.match(result.stdout, new RegExp(`Every 1s: kiab status ${CLUSTER}`));
    assert.ok(redraws(result.stdout) >= 3);
    assert.ok(result.stdout.endsWith('\x1b[?25h'), 'the cursor is shown again');
    assert.ok(!result.stdout.includes('interrupting'));
  });

  it('refuses an interval out of range, or one without --watch, in one line with exit 2', async () => {
    for (const args of [
      ['--watch', '--interval', '500ms'],
      ['--interval', '2s'],
    ]) {
      const result = await kiab(['status', CLUSTER, ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^kiab: --interval: [^\n]+\n$/);
      assert.equal(result.stdout, '');
    }
  });

  it('a cluster that does not exist is an error before the watch starts', async () => {
    const result = await kiab(['status', 'fb-nowhere', '--watch']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^kiab: cluster fb-nowhere does not exist/);
  });
});
