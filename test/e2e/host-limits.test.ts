// test-lane: alone — it lowers a host-wide limit that an `up` of any other suite would be refused by: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { inotifyUsage } from '../../src/host/inotify.js';
import { kiab, labelledObjects } from './helpers.js';

const CLUSTER = 'e2e-host-limits';
const SYSCTL = '/proc/sys/fs/inotify/max_user_instances';
const needsRoot = process.getuid?.() === 0 ? false : 'needs root to lower the sysctl';

/** Runs `work` with fs.inotify.max_user_instances lowered to room for one bare machine, and puts it back. */
async function withFewInotifyInstances<T>(work: () => Promise<T>): Promise<T> {
  const saved = (await readFile(SYSCTL, 'utf8')).trim();
  const inUse = (await inotifyUsage(0))?.instances ?? 0;
  await writeFile(SYSCTL, String(inUse + 10));
  try {
    return await work();
  } finally {
    await writeFile(SYSCTL, saved);
  }
}

describe('a host without room for the machines’ inotify instances', () => {
  it('up is refused before anything is created, in one line naming the sysctl', { skip: needsRoot }, async () => {
    const result = await withFewInotifyInstances(() => kiab(['up', CLUSTER, '--k8s', 'none', '--workers', '2']));
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, got: ${result.stderr}`);
    assert.match(
      lines[0]!,
      /host limit: fs\.inotify\.max_user_instances is \d+ with \d+ in use, and 1 server \+ 2 workers of none need about 21 more; raise it with `sysctl -w fs\.inotify\.max_user_instances=\d+`/,
    );
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });

  it('doctor exits 1, naming the sysctl and the value to set', { skip: needsRoot }, async () => {
    const result = await withFewInotifyInstances(() => kiab(['doctor', '-o', 'json']));
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { ready: boolean; checks: Array<{ id: string; status: string; message: string; fix: string | null }> };
    assert.equal(report.ready, false);
    const inotify = report.checks.find((check) => check.id === 'inotify')!;
    assert.equal(inotify.status, 'fail');
    assert.match(inotify.message, /fs\.inotify\.max_user_instances is \d+ with \d+ in use, and 1 server \+ 1 worker of kubeadm need about \d+ more/);
    assert.match(inotify.fix!, /sysctl -w fs\.inotify\.max_user_instances=\d+/);
  });
});
