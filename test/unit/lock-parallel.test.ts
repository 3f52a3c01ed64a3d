import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { withClusterLock } from '../../src/cluster/lock.js';
import { forEachBounded } from '../../src/parallel.js';

describe('cluster lock', () => {
  it('serialises work on one cluster and lets other clusters run alongside', async () => {
    process.env.XDG_RUNTIME_DIR = await mkdtemp(join(tmpdir(), 'kiab-lock-'));
    const events: string[] = [];
    const slow = (tag: string) => async () => {
      events.push(`${tag}+`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      events.push(`${tag}-`);
    };
    await Promise.all([withClusterLock('a', slow('a1')), withClusterLock('a', slow('a2')), withClusterLock('b', slow('b1'))]);
    const a1 = events.indexOf('a1+');
    const a2 = events.indexOf('a2+');
    const [first, second] = a1 < a2 ? ['a1', 'a2'] : ['a2', 'a1'];
    assert.ok(events.indexOf(`${first}-`) < events.indexOf(`${second}+`), `a's work overlapped: ${events.join(' ')}`);
    assert.ok(events.indexOf('b1+') < events.indexOf(`${first}-`), `b waited for a: ${events.join(' ')}`);
  });

  it('takes over a lock whose owner died', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-lock-'));
    process.env.XDG_RUNTIME_DIR = dir;
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    await writeFile(join(dir, 'kiab', 'c.lock'), `${deadPid}@${hostname()}`).catch(async () => {
      await withClusterLock('warmup', async () => undefined);
      await writeFile(join(dir, 'kiab', 'c.lock'), `${deadPid}@${hostname()}`);
    });
    const result = await withClusterLock('c', async () => 'ran', { timeoutMs: 2000 });
    assert.equal(result, 'ran');
  });

  it('gives the lock to one process at a time when many contenders find the same dead owner at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-lock-race-'));
    await mkdir(join(dir, 'kiab'), { recursive: true });
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    await writeFile(join(dir, 'kiab', 'race.lock'), `${deadPid}@${hostname()}`);
    const contenders = 10;
    const exits = Array.from({ length: contenders }, () => {
      const contender = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/lock-contender.ts', import.meta.url)), dir], {
        env: { ...process.env, XDG_RUNTIME_DIR: dir },
        stdio: 'inherit',
      });
      return new Promise<number | null>((resolve) => contender.once('exit', resolve));
    });
    // Everyone waits at the barrier, so they all meet the stale lock together.
    for (;;) {
      if ((await readdir(dir)).filter((name) => name.startsWith('ready-')).length === contenders) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await writeFile(join(dir, 'go'), '');
    assert.deepEqual(await Promise.all(exits), Array(contenders).fill(0));
    const log = (await readFile(join(dir, 'log'), 'utf8')).trim().split('\n');
    assert.equal(log.length, 2 * contenders);
    for (let index = 0; index < log.length; index += 2) {
      assert.equal(log[index + 1], `-${log[index]!.slice(1)}`, `two holders at once: ${log.join(' ')}`);
    }
  });
});

describe('bounded parallelism', () => {
  it('never runs more than the bound at once', async () => {
    let running = 0;
    let peak = 0;
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running -= 1;
    });
    assert.equal(peak, 3);
  });

  it('stops starting new work after the first failure and throws it', async () => {
    const started: number[] = [];
    await assert.rejects(
      forEachBounded([1, 2, 3, 4, 5], 1, async (item) => {
        started.push(item);
        if (item === 2) throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(started, [1, 2]);
  });
});
