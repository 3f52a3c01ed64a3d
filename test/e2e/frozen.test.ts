import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KIAB, docker, eventually, kiab, kiabOk, labelledObjects, run } from './helpers.js';

const CLUSTER = 'hd-frozen';
const FREEZER = '/sys/fs/cgroup/freezer';
/** A user without root, in the engine's group (see image-load-errors.test.ts). */
const USER = 'kiab-e2e-user';

/**
 * Freezes a cgroup inside a machine from the host, as a kill that caught runc setting up a pod leaves it: a
 * process of the machine in a child of its freezer cgroup, frozen. runc's kill thaws the machine's own cgroup,
 * never a child's. Returns the child's freezer.state.
 */
async function freezeInside(machine: string): Promise<string> {
  const id = await docker(['inspect', '--format', '{{.Id}}', machine]);
  const own = [join(FREEZER, 'docker', id), join(FREEZER, 'system.slice', `docker-${id}.scope`)].find((path) => existsSync(path));
  if (!own) throw new Error(`no freezer cgroup of ${machine} under ${FREEZER}`);
  await docker(['exec', '-d', machine, 'sleep', '3600']);
  const pid = await eventually(async () => {
    const line = (await docker(['top', machine, '-eo', 'pid,args'])).split('\n').find((row) => /\ssleep 3600$/.test(row));
    if (!line) throw new Error('the sleep has not started');
    return line.trim().split(/\s+/)[0]!;
  });
  const child = join(own, 'hd-frozen');
  await mkdir(child);
  await writeFile(join(child, 'cgroup.procs'), pid);
  await writeFile(join(child, 'freezer.state'), 'FROZEN');
  assert.match(await readFile(join(child, 'freezer.state'), 'utf8'), /FROZEN|FREEZING/);
  return join(child, 'freezer.state');
}

const cgroupV1 = existsSync(FREEZER) ? false : 'only a cgroup v1 host has the freezer';

describe('delete of a machine frozen from the host', { skip: cgroupV1 }, () => {
  before(async () => {
    await kiab(['delete', CLUSTER]);
  });
  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('finishes within 60 s and leaves nothing', async () => {
    await kiabOk(['up', CLUSTER, '--k8s', 'none', '--workers', '1', '--no-snapshot']);
    await freezeInside(`kiab-${CLUSTER}-worker-0`);
    const started = Date.now();
    const result = await kiab(['delete', CLUSTER], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });

  it('a user who may not thaw it is told the freezer.state file and the command to run', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run kiab as another user');
    if ((await run('id', [USER])).code !== 0 && (await run('useradd', ['--no-create-home', '--groups', 'docker', USER])).code !== 0)
      return t.skip(`cannot create user ${USER}`);
    await kiabOk(['up', CLUSTER, '--k8s', 'none', '--workers', '0', '--no-snapshot']);
    const state = await freezeInside(`kiab-${CLUSTER}-server-0`);
    const result = await run('runuser', ['-u', USER, '--', 'env', 'HOME=/tmp', process.execPath, KIAB, 'delete', CLUSTER], { timeoutMs: 180_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(state), result.stderr);
    assert.match(result.stderr, /sudo tee/);
    // Root may thaw it: the same delete then finishes.
    await kiabOk(['delete', CLUSTER]);
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });
});
