import assert from 'node:assert/strict';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inotifyHint, inotifyShortfall, inotifyUsage } from '../../src/host/inotify.js';

/** A /proc with the two sysctls and processes given as uid -> list of inotify fds (each with its watch count). */
async function fakeProc(limits: { instances: number; watches: number }, processes: Array<{ uid: number; inotify: number[]; other?: number }>): Promise<string> {
  const proc = await mkdtemp(join(tmpdir(), 'kiab-proc-'));
  await mkdir(join(proc, 'sys/fs/inotify'), { recursive: true });
  await writeFile(join(proc, 'sys/fs/inotify/max_user_instances'), `${limits.instances}\n`);
  await writeFile(join(proc, 'sys/fs/inotify/max_user_watches'), `${limits.watches}\n`);
  for (const [index, process] of processes.entries()) {
    const pid = join(proc, String(100 + index));
    await mkdir(join(pid, 'fd'), { recursive: true });
    await mkdir(join(pid, 'fdinfo'), { recursive: true });
    await writeFile(join(pid, 'status'), `Name:\tx\nUid:\t${process.uid}\t${process.uid}\t${process.uid}\t${process.uid}\n`);
    for (const [fd, watches] of process.inotify.entries()) {
      await symlink('anon_inode:inotify', join(pid, 'fd', String(fd)));
      await writeFile(join(pid, 'fdinfo', String(fd)), `pos:\t0\n${'inotify wd:1 ino:2 sdev:3 mask:4 ignored_mask:0\n'.repeat(watches)}`);
    }
    for (let fd = 0; fd < (process.other ?? 0); fd += 1) await symlink('/dev/null', join(pid, 'fd', String(100 + fd)));
  }
  return proc;
}

describe('inotify limits', () => {
  it('counts the instances and watches of the engine user only', async () => {
    const proc = await fakeProc({ instances: 128, watches: 8192 }, [
      { uid: 0, inotify: [3, 5], other: 4 },
      { uid: 0, inotify: [1] },
      { uid: 1000, inotify: [50, 50] },
    ]);
    assert.deepEqual(await inotifyUsage(0, proc), { maxInstances: 128, maxWatches: 8192, instances: 3, watches: 9 });
  });

  it('is unknown where the limits cannot be read', async () => {
    assert.equal(await inotifyUsage(0, await mkdtemp(join(tmpdir(), 'kiab-proc-'))), undefined);
  });

  const usage = { maxInstances: 128, maxWatches: 100_000, instances: 100, watches: 1_000 };
  for (const { need, expected } of [
    { need: { instances: 28, watches: 400 }, expected: undefined },
    {
      need: { instances: 29, watches: 400 },
      expected: /^host limit: fs\.inotify\.max_user_instances is 128 with 100 in use, and 1 server of kubeadm need about 29 more$/,
    },
    { need: { instances: 1, watches: 99_001 }, expected: /^host limit: fs\.inotify\.max_user_watches is 100000 with 1000 in use/ },
  ]) {
    it(`refuses only when the need does not fit (${need.instances} instances, ${need.watches} watches)`, () => {
      const shortfall = inotifyShortfall(usage, need, '1 server of kubeadm');
      if (!expected) return assert.equal(shortfall, undefined);
      assert.match(shortfall?.message ?? '', expected);
      assert.match(shortfall?.hint ?? '', /sysctl -w fs\.inotify\.max_user_(instances|watches)=\d+/);
    });
  }

  it('suggests a value with room for what is in use and what is asked', () => {
    const hint = inotifyShortfall({ maxInstances: 128, maxWatches: 8192, instances: 500, watches: 0 }, { instances: 100, watches: 0 }, 'x')?.hint ?? '';
    const value = Number(/max_user_instances=(\d+)/.exec(hint)?.[1]);
    assert.ok(value >= 1200, `suggested ${value}`);
  });

  for (const [log, named] of [
    ['E1126 kubelet.go:1621] "Failed to start cAdvisor" err="inotify_init: too many open files"', true],
    ['failed to create fsnotify watcher: too many open files', true],
    ['inotify_add_watch /sys/fs/cgroup: no space left on device', true],
    ['open /var/lib/kubelet/config.yaml: too many open files', false],
    ['kubelet started', false],
  ] as const) {
    it(`names the limit in a log only when inotify ran out: ${log.slice(0, 40)}`, () => {
      assert.equal(inotifyHint(log) !== undefined, named);
    });
  }
});
