import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { docker, eventually, kiab, kiabOk, startKiab } from './helpers.js';

const CLUSTER = 'hd-pause';

/** The cluster's machines the engine holds paused. */
async function pausedMachines(): Promise<string[]> {
  return (await docker(['ps', '--filter', `label=dev.kiab.cluster=${CLUSTER}`, '--filter', 'status=paused', '--format', '{{.Names}}']))
    .split('\n')
    .filter(Boolean);
}

describe('snapshot save never leaves machines paused', () => {
  before(async () => {
    await kiab(['delete', CLUSTER]);
    await kiabOk(['up', CLUSTER, '--k8s', 'none', '--workers', '2', '--no-snapshot']);
  });
  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('Ctrl-C twice while the machines are paused: they are unpaused before kiab leaves, and the next up finds none paused', async () => {
    const running = startKiab(['snapshot', 'save', CLUSTER, 'twice']);
    await eventually(
      async () => {
        if ((await pausedMachines()).length === 0) throw new Error('nothing paused yet');
      },
      60_000,
      10,
    );
    running.child.kill('SIGINT');
    running.child.kill('SIGINT');
    const [code] = (await once(running.child, 'close')) as [number | null];
    assert.equal(code, 130, running.stderr());
    assert.deepEqual(await pausedMachines(), [], 'the second Ctrl-C unpaused before it left');
    await kiabOk(['up', CLUSTER, '--k8s', 'none', '--workers', '2', '--no-snapshot']);
    assert.deepEqual(await pausedMachines(), []);
  });

  it('up unpauses a machine an earlier run left paused', async () => {
    const [machine] = (
      await docker(['ps', '--filter', `label=dev.kiab.cluster=${CLUSTER}`, '--filter', 'label=dev.kiab.role=worker', '--format', '{{.Names}}'])
    ).split('\n');
    await docker(['pause', machine!]);
    await kiabOk(['up', CLUSTER, '--k8s', 'none', '--workers', '2', '--no-snapshot']);
    assert.deepEqual(await pausedMachines(), []);
  });

  it('snapshot save of a cluster with a machine left paused captures it and leaves it running', async () => {
    const [machine] = (
      await docker(['ps', '--filter', `label=dev.kiab.cluster=${CLUSTER}`, '--filter', 'label=dev.kiab.role=worker', '--format', '{{.Names}}'])
    ).split('\n');
    await docker(['pause', machine!]);
    await kiabOk(['snapshot', 'save', CLUSTER, 'after-pause', '--force']);
    assert.deepEqual(await pausedMachines(), []);
    const listed = await kiabOk(['snapshot', 'list', CLUSTER]);
    assert.match(listed.stdout, /after-pause/);
  });
});
