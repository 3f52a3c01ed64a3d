import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { clusterLockPath, withClusterLock } from '../../src/cluster/lock.js';
import { AbortedError } from '../../src/errors.js';
import type { Reporter } from '../../src/reporter.js';
import { quiet } from '../fakes/cluster.js';
import { forEachBounded } from '../../src/parallel.js';

const ENGINE = 'unix:///kiab-test/engine.sock';
const reporterOf = (warnings: string[]): Reporter => ({ ...quiet, warn: (message) => warnings.push(message) });

/** A fresh shared lock folder, standing in for the one every user of a host shares. */
async function sharedLocks(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o1777);
  process.env.KIAB_LOCK_DIR = dir;
  return dir;
}

describe('cluster lock', () => {
  it('serialises work on one cluster and lets other clusters run alongside', async () => {
    await sharedLocks('kiab-lock-');
    const events: string[] = [];
    const slow = (tag: string) => async () => {
      events.push(`${tag}+`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      events.push(`${tag}-`);
    };
    await Promise.all([
      withClusterLock('a', slow('a1'), { engine: ENGINE }),
      withClusterLock('a', slow('a2'), { engine: ENGINE }),
      withClusterLock('b', slow('b1'), { engine: ENGINE }),
    ]);
    const a1 = events.indexOf('a1+');
    const a2 = events.indexOf('a2+');
    const [first, second] = a1 < a2 ? ['a1', 'a2'] : ['a2', 'a1'];
    assert.ok(events.indexOf(`${first}-`) < events.indexOf(`${second}+`), `a's work overlapped: ${events.join(' ')}`);
    assert.ok(events.indexOf('b1+') < events.indexOf(`${first}-`), `b waited for a: ${events.join(' ')}`);
  });

  it('is one lock per engine: a cluster of the same name on another engine does not wait', async () => {
    await sharedLocks('kiab-lock-');
    const order: string[] = [];
    await withClusterLock(
      'same',
      async () => {
        await withClusterLock('same', async () => void order.push('other engine'), { engine: 'tcp://elsewhere:2375', timeoutMs: 2000 });
        order.push('this engine');
      },
      { engine: ENGINE },
    );
    assert.deepEqual(order, ['other engine', 'this engine']);
  });

  it('takes over a lock whose owner died', async () => {
    await sharedLocks('kiab-lock-');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    await writeFile(await clusterLockPath(ENGINE, 'c'), `${deadPid}@${hostname()}`);
    const result = await withClusterLock('c', async () => 'ran', { engine: ENGINE, timeoutMs: 2000 });
    assert.equal(result, 'ran');
  });

  it('a wait says who holds the lock, and Ctrl-C ends it', async () => {
    await sharedLocks('kiab-lock-');
    const warnings: string[] = [];
    const controller = new AbortController();
    let release: () => void = () => undefined;
    let acquired: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => (acquired = resolve));
    const held = withClusterLock(
      'held',
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
          acquired();
        }),
      { engine: ENGINE },
    );
    // The holder takes the lock first; only then does the second command come to wait for it.
    await holding;
    const waiting = withClusterLock('held', async () => 'ran', { engine: ENGINE, reporter: reporterOf(warnings), signal: controller.signal });
    while (warnings.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(warnings[0]!, new RegExp(`cluster held \\(pid ${process.pid} of user ${userInfo().username}\\)`));
    controller.abort();
    await assert.rejects(waiting, AbortedError);
    release();
    await held;
  });

  it(
    'is shared by two users of one engine: root waits for the lock another user holds, and is told whose it is',
    { skip: process.getuid?.() === 0 ? false : 'needs root to run a contender as another user' },
    async () => {
      const dir = await sharedLocks('kiab-lock-users-');
      const holder = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('../fixtures/lock-holder.ts', import.meta.url)), dir, ENGINE, 'shared'],
        {
          env: { ...process.env, KIAB_LOCK_DIR: dir, HOME: dir },
          uid: 65534,
          gid: 65534,
          stdio: 'inherit',
        },
      );
      const exited = new Promise<number | null>((resolve) => holder.once('exit', resolve));
      while (!existsSync(join(dir, 'held'))) {
        if (holder.exitCode !== null) assert.fail(`the other user's contender exited ${holder.exitCode}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const warnings: string[] = [];
      let ran = false;
      const waiting = withClusterLock(
        'shared',
        async () => {
          ran = true;
          // The holder lets go of the lock some time before its process exits (longer on a busy host): what it
          // wrote last while holding it tells that it had let go.
          assert.ok(existsSync(join(dir, 'done')), 'root ran only once the other user let go');
        },
        { engine: ENGINE, reporter: reporterOf(warnings), timeoutMs: 30_000 },
      );
      const warned = (async () => {
        while (warnings.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      })();
      // A lock of root's own would be taken at once, without a wait.
      await Promise.race([warned, waiting.then(() => assert.fail('root took the lock the other user held'))]);
      assert.equal(ran, false);
      assert.match(warnings[0]!, new RegExp(`pid ${holder.pid} of user ${userNameOf(65534)}`));
      await writeFile(join(dir, 'release'), '');
      assert.equal(await exited, 0);
      await waiting;
      assert.equal(ran, true);
    },
  );

  it('gives the lock to one process at a time when many contenders find the same dead owner at once', async () => {
    const dir = await sharedLocks('kiab-lock-race-');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    await writeFile(await clusterLockPath(ENGINE, 'race'), `${deadPid}@${hostname()}`);
    const contenders = 10;
    const exits = Array.from({ length: contenders }, () => {
      const contender = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/lock-contender.ts', import.meta.url)), dir], {
        env: { ...process.env, KIAB_LOCK_DIR: dir },
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

/** The host's name for a uid, as /etc/passwd has it. */
function userNameOf(uid: number): string {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.split(':')[2] === String(uid));
  return entry?.split(':')[0] ?? `uid ${uid}`;
}

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
