import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { docker, eventually, kiab, kiabJson, kiabOk, labelledObjects, spawnKiab, type StatusJson } from './helpers.js';

const KILLED = 'e2e-killed';
const INTERRUPTED = 'e2e-sigint';

/** Waits until `up` has created at least `count` labelled containers, so it is killed mid-way. */
async function waitForContainers(cluster: string, count: number): Promise<void> {
  await eventually(
    async () => {
      const { containers } = await labelledObjects(cluster);
      if (containers.length < count) throw new Error(`only ${containers.length} containers yet`);
    },
    60_000,
    50,
  );
}

describe('an interrupted up converges on the next run', () => {
  before(async () => {
    await kiab(['delete', KILLED, INTERRUPTED]);
  });
  after(async () => {
    await kiab(['delete', KILLED, INTERRUPTED]);
  });

  it('SIGKILL mid-way: a later up finishes the cluster and a later delete removes everything', async () => {
    const child = spawnKiab(['up', KILLED, '--k8s', 'none', '--workers', '3']);
    await waitForContainers(KILLED, 2);
    child.kill('SIGKILL');
    await once(child, 'close');
    const partial = await labelledObjects(KILLED);
    assert.ok(partial.containers.length >= 2, 'killed after it had started creating');

    const status = await kiabJson<StatusJson>(['up', KILLED, '--k8s', 'none', '--workers', '3']);
    assert.equal(status.state, 'running');
    assert.equal(status.nodes.length, 4);
    const objects = await labelledObjects(KILLED);
    assert.equal(objects.containers.length, 5, `no duplicates: ${objects.containers.join(',')}`);

    await kiabOk(['delete', KILLED]);
    assert.deepEqual(await labelledObjects(KILLED), { containers: [], networks: [], volumes: [] });
  });

  it('Ctrl-C (SIGINT) mid-way: exit 130, and delete alone removes what was made', async () => {
    const child = spawnKiab(['up', INTERRUPTED, '--k8s', 'none', '--workers', '3']);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForContainers(INTERRUPTED, 1);
    child.kill('SIGINT');
    const [code] = (await once(child, 'close')) as [number | null];
    // Interrupted at a safe point (130); if up had already finished, it exits 0: both leave a consistent cluster.
    assert.ok(code === 130 || code === 0, `exit ${code}: ${stderr}`);
    if (code === 130) assert.match(stderr, /interrupted/);
    await kiabOk(['delete', INTERRUPTED]);
    assert.deepEqual(await labelledObjects(INTERRUPTED), { containers: [], networks: [], volumes: [] });
  });
});

describe('delete of a machine whose process cannot die', () => {
  const FROZEN = 'e2e-frozen';
  const cgroupV1 = existsSync('/sys/fs/cgroup/freezer');
  before(async () => {
    await kiab(['delete', FROZEN]);
  });
  after(async () => {
    await kiab(['delete', FROZEN]);
  });

  // runc freezes a pod's cgroup for a moment while it sets the pod up; a machine killed then keeps it frozen,
  // and the engine's kill cannot end a frozen process (it gives up after about 10 s).
  it(
    'removes it all the same: a process frozen in a cgroup inside the machine is thawed',
    { skip: cgroupV1 ? false : 'only a cgroup v1 host freezes this way' },
    async () => {
      await kiabOk(['up', FROZEN, '--k8s', 'none', '--workers', '0', '--no-snapshot']);
      const frozen = await docker([
        'exec',
        `kiab-${FROZEN}-server-0`,
        'sh',
        '-c',
        // FREEZING turns into FROZEN once every task has stopped; on a busy host that takes a moment.
        [
          'd=/sys/fs/cgroup/freezer/e2e',
          'mkdir -p $d && { sleep 600 & echo $! > $d/cgroup.procs; } && echo FROZEN > $d/freezer.state',
          'for _ in $(seq 100); do [ "$(cat $d/freezer.state)" = FROZEN ] && break; sleep 0.1; done',
          'cat $d/freezer.state',
        ].join('; '),
      ]);
      assert.equal(frozen.trim(), 'FROZEN');
      await kiabOk(['delete', FROZEN]);
      assert.deepEqual(await labelledObjects(FROZEN), { containers: [], networks: [], volumes: [] });
    },
  );
});
