import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { deleteCluster } from '../../src/cluster/lifecycle/delete.js';
import { addNode } from '../../src/cluster/lifecycle/nodes.js';
import { listSnapshots, restoreSnapshot, saveSnapshot } from '../../src/cluster/snapshot/snapshot.js';
import { up } from '../../src/cluster/lifecycle/up.js';
import { AbortedError, KiabError } from '../../src/errors.js';
import { undoBeforeForcedExit } from '../../src/forced-exit.js';
import { poll } from '../../src/wait.js';
import { LABEL } from '../../src/labels.js';
import { engine, inventory, isolateFolders, machineNames, namesOf, positionsOf, quiet, specOf, upCluster } from '../fakes/cluster.js';
import type { FakeProvider } from '../fakes/provider.js';

before(isolateFolders);

const MACHINES = machineNames('dev', 1, 2);
/** Snapshot object names with the capture's generation written as G, so they can be compared. */
const withoutGeneration = (name: string): string => name.replace(/(s1)\.[0-9a-z]+\./, '$1.G.');
const snapshotImages = (provider: FakeProvider): string[] =>
  provider.images.filter((image) => image.labels[LABEL.snapshot] === 's1').flatMap((image) => image.tags.map(withoutGeneration));
const snapshotVolumes = (provider: FakeProvider): string[] =>
  [...provider.volumes.values()].filter((volume) => volume.labels[LABEL.snapshot] === 's1').map((volume) => withoutGeneration(volume.name));
const states = (provider: FakeProvider, names: string[]): string[] => names.map((name) => provider.containers.get(name)?.info.state ?? 'missing');

describe('snapshot save', () => {
  it('tries again a machine the runtime could not freeze at once, and captures it frozen', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    const busy = new Error('(HTTP code 500) server error - Cannot pause container: OCI runtime pause failed: unable to freeze: unknown');
    provider.failNext('pauseContainer', 'kiab-dev-worker-0', busy);
    provider.failNext('pauseContainer', 'kiab-dev-worker-0', busy);
    provider.resetCalls();
    await saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.equal(namesOf(provider.calls, 'pauseContainer').filter((name) => name === 'kiab-dev-worker-0').length, 3);
    assert.ok(Math.max(...positionsOf(provider, 'pauseContainer')) < Math.min(...positionsOf(provider, 'commitContainer')), 'captured before frozen');
    assert.deepEqual(states(provider, MACHINES), ['running', 'running', 'running']);
  });

  it('gives up at once on a pause that fails otherwise, and thaws the machines it froze', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    provider.failNext('pauseContainer', 'kiab-dev-worker-1', new Error('container is restarting'));
    provider.resetCalls();
    await assert.rejects(saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet }), /container is restarting/);
    assert.equal(namesOf(provider.calls, 'pauseContainer').filter((name) => name === 'kiab-dev-worker-1').length, 1);
    assert.deepEqual(namesOf(provider.calls, 'commitContainer'), []);
    assert.deepEqual(states(provider, MACHINES), ['running', 'running', 'running']);
  });

  it('freezes every running machine before capturing any, and thaws each once its own capture is made', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    provider.resetCalls();
    const info = await saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.deepEqual(info.machines, MACHINES);

    const captures = [...positionsOf(provider, 'commitContainer'), ...positionsOf(provider, 'copyVolumes')];
    assert.deepEqual(namesOf(provider.calls, 'pauseContainer').sort(), MACHINES);
    assert.deepEqual(namesOf(provider.calls, 'unpauseContainer').sort(), MACHINES);
    assert.ok(Math.max(...positionsOf(provider, 'pauseContainer')) < Math.min(...captures), 'a machine was captured before all were frozen');
    for (const machine of MACHINES) {
      const own = provider.calls.flatMap((call, position) =>
        (call.method === 'commitContainer' && call.name === machine) ||
        (call.method === 'copyVolumes' && call.args.some((arg) => JSON.stringify(arg).includes(`"${machine}"`)))
          ? [position]
          : [],
      );
      assert.equal(own.length, 2, `${machine}: its commit and its volume copy`);
      const thawed = provider.calls.findIndex((call) => call.method === 'unpauseContainer' && call.name === machine);
      assert.ok(Math.max(...own) < thawed, `${machine} was thawed before its own capture was made`);
    }
    assert.deepEqual(states(provider, MACHINES), ['running', 'running', 'running']);
    assert.deepEqual(snapshotImages(provider).sort(), [
      'kiab-snapshot/dev:s1.G.server-0',
      'kiab-snapshot/dev:s1.G.worker-0',
      'kiab-snapshot/dev:s1.G.worker-1',
    ]);
    assert.deepEqual(snapshotVolumes(provider).sort(), [
      'kiab-snapshot.dev.s1.G.server-0.containerd',
      'kiab-snapshot.dev.s1.G.worker-0.containerd',
      'kiab-snapshot.dev.s1.G.worker-1.containerd',
    ]);
  });

  it('a forced exit while a pause is under way waits for the engine to carry it out, then thaws every machine', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    const late = 'kiab-dev-worker-1';
    // The engine carries out this machine's pause only once told to, after the forced exit has begun.
    let carryOut!: () => void;
    const told = new Promise<void>((resolve) => (carryOut = resolve));
    const pause = provider.pauseContainer.bind(provider);
    let landed!: Promise<void>;
    provider.pauseContainer = (name: string): Promise<void> => {
      if (name !== late) return pause(name);
      landed = told.then(() => pause(name));
      return landed;
    };
    // kiab is gone once the undo has run: nothing after the freeze gets to thaw a machine until the check below.
    const commit = provider.commitContainer.bind(provider);
    let goOn!: () => void;
    const gone = new Promise<void>((resolve) => (goOn = resolve));
    provider.commitContainer = (...args) => gone.then(() => commit(...args));
    const saving = saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    await poll(async () => (states(provider, MACHINES).join() === 'paused,paused,running' ? true : undefined), {
      interval: 5,
      deadline: Date.now() + 5_000,
      timeout: () => new KiabError(`the others never froze: ${states(provider, MACHINES).join()}`),
    });
    const undone = undoBeforeForcedExit(5_000);
    setTimeout(carryOut, 50);
    await undone;
    await landed;
    assert.deepEqual(states(provider, MACHINES), ['running', 'running', 'running']);
    goOn();
    await saving;
  });

  it('leaves a stopped machine stopped and still captures it', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    await provider.stopContainer('kiab-dev-worker-1');
    provider.resetCalls();
    await saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.deepEqual(namesOf(provider.calls, 'pauseContainer').sort(), ['kiab-dev-server-0', 'kiab-dev-worker-0']);
    assert.ok(namesOf(provider.calls, 'commitContainer').includes('kiab-dev-worker-1'));
    assert.deepEqual(states(provider, MACHINES), ['running', 'running', 'exited']);
  });

  it('thaws every machine and leaves no half snapshot when a capture fails', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    provider.failNext('commitContainer', 'kiab-dev-worker-0');
    await assert.rejects(saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet }), /injected failure/);
    assert.deepEqual(states(provider, MACHINES), ['running', 'running', 'running']);
    assert.deepEqual(snapshotImages(provider), []);
    assert.deepEqual(snapshotVolumes(provider), []);
  });

  it('is taken by up once, as clean', async () => {
    const provider = engine();
    await up({ provider, spec: specOf('dev'), reporter: quiet });
    assert.equal(namesOf(provider.calls, 'commitContainer').length, 3);
    provider.resetCalls();
    await up({ provider, spec: specOf('dev'), reporter: quiet });
    assert.deepEqual(namesOf(provider.calls, 'commitContainer'), []);
  });
});

describe('the clean snapshot of machines that get nothing installed', () => {
  it('is captured by up before they first start: no pause, no volume copied, none of their files on a volume', async () => {
    const provider = engine();
    await up({ provider, spec: specOf('dev'), reporter: quiet });
    const commits = positionsOf(provider, 'commitContainer');
    assert.deepEqual(namesOf(provider.calls, 'commitContainer').sort(), MACHINES);
    assert.ok(
      Math.max(...commits) < Math.min(...positionsOf(provider, 'startContainer', (name) => MACHINES.includes(name))),
      'a machine started before all were captured',
    );
    assert.deepEqual(namesOf(provider.calls, 'pauseContainer'), []);
    assert.deepEqual(namesOf(provider.calls, 'copyVolumes'), []);
    // What is not copied is what the engine fills from the image again: a file written onto a volume would be lost.
    for (const machine of MACHINES) {
      const volumePaths = provider.containers.get(machine)!.spec.volumes.map((volume) => `${volume.path}/`);
      const written = provider.calls
        .filter((call) => call.method === 'writeFiles' && call.name === machine)
        .flatMap((call) => (call.args[0] as Array<{ path: string }>).map((file) => file.path));
      assert.ok(written.length > 0);
      for (const path of written) assert.ok(!volumePaths.some((volume) => path.startsWith(volume)), `${path} lies on a volume of ${machine}`);
    }
    assert.deepEqual(states(provider, MACHINES), ['running', 'running', 'running']);
  });

  it('is restored with volumes as the engine makes them, whatever was written since', async () => {
    const provider = engine();
    await up({ provider, spec: specOf('dev'), reporter: quiet });
    provider.volumes.get('kiab-dev-worker-0-containerd')!.files.set('data', 'after up');
    await provider.writeFiles('kiab-dev-worker-0', [{ path: '/etc/marker', content: 'after up' }]);
    provider.resetCalls();
    const status = await restoreSnapshot({ provider, cluster: 'dev', snapshot: 'clean', reporter: quiet });
    assert.equal(status.state, 'running');
    assert.deepEqual(namesOf(provider.calls, 'copyVolumes'), []);
    assert.equal(provider.volumes.get('kiab-dev-worker-0-containerd')!.files.has('data'), false);
    assert.equal(provider.containers.get('kiab-dev-worker-0')!.files.has('/etc/marker'), false);
    assert.equal(provider.volumes.get('kiab-dev-worker-0-containerd')!.labels[LABEL.machine], 'kiab-dev-worker-0');
  });
});

/** A cluster with a file in worker-0's filesystem and one in its containerd volume, snapshotted as s1, then changed and grown. */
async function snapshotThenChange(provider: FakeProvider): Promise<void> {
  await upCluster(provider, 'dev');
  const volume = provider.volumes.get('kiab-dev-worker-0-containerd')!;
  volume.files.set('data', 'at snapshot');
  await provider.writeFiles('kiab-dev-worker-0', [{ path: '/etc/marker', content: 'at snapshot' }]);
  await saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
  volume.files.set('data', 'later');
  await provider.writeFiles('kiab-dev-worker-0', [{ path: '/etc/marker', content: 'later' }]);
  await addNode({ provider, reporter: quiet, cluster: 'dev', role: 'worker' });
}

describe('snapshot restore', () => {
  it("brings back the snapshot's machines with their files and volumes, and drops a machine added since", async () => {
    const provider = engine();
    await snapshotThenChange(provider);
    const status = await restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.equal(status.state, 'running');
    assert.deepEqual(
      status.nodes.map((node) => [node.name, node.ip]),
      [
        ['kiab-dev-server-0', '172.28.0.10'],
        ['kiab-dev-worker-0', '172.28.0.50'],
        ['kiab-dev-worker-1', '172.28.0.51'],
      ],
    );
    assert.equal(provider.containers.has('kiab-dev-worker-2'), false);
    assert.equal(provider.volumes.has('kiab-dev-worker-2-containerd'), false);
    assert.equal(provider.containers.get('kiab-dev-worker-0')!.files.get('/etc/marker'), 'at snapshot');
    assert.equal(provider.volumes.get('kiab-dev-worker-0-containerd')!.files.get('data'), 'at snapshot');
    const labels = provider.containers.get('kiab-dev-worker-0')!.info.labels;
    assert.deepEqual([labels[LABEL.role], labels[LABEL.index], labels[LABEL.snapshot]], ['worker', '0', '']);
    assert.deepEqual(snapshotImages(provider).length, 3, 'the snapshot stays');
  });

  it("removes every current machine before starting any, and copies a machine's volumes back before starting it", async () => {
    const provider = engine();
    await snapshotThenChange(provider);
    provider.resetCalls();
    await restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.deepEqual(namesOf(provider.calls, 'removeContainer').sort(), [...MACHINES, 'kiab-dev-worker-2']);
    assert.ok(
      Math.max(...positionsOf(provider, 'removeContainer')) < Math.min(...positionsOf(provider, 'startContainer')),
      'a machine was started before the old ones were all gone',
    );
    for (const machine of MACHINES) {
      const copied = provider.calls.findIndex((call) => call.method === 'copyVolumes' && call.args[0] === `${machine}-containerd`);
      const [started] = positionsOf(provider, 'startContainer', (name) => name === machine);
      assert.ok(copied >= 0 && copied < started!, `${machine} started before its volume was copied back`);
    }
  });

  it('leaves the running box alone when the restored machines are the ones it balances, and reloads it when they are not', async () => {
    const reloads = (provider: FakeProvider): number =>
      provider.calls.filter(
        (call) => call.method === 'exec' && call.name === 'kiab-dev-box' && (call.args[0] as string[]).join(' ').endsWith('kiab-box-lb reload'),
      ).length;
    const provider = engine();
    await snapshotThenChange(provider);
    provider.resetCalls();
    // worker-2 came after the snapshot: the box balanced it, and must stop.
    await restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.equal(reloads(provider), 1);
    provider.resetCalls();
    await restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.equal(reloads(provider), 0);
  });

  it('restores a volume exactly after a restore that crashed between removing a machine and its volume', async () => {
    const provider = engine();
    await snapshotThenChange(provider);
    provider.volumes.get('kiab-dev-worker-0-containerd')!.files.set('made-after-snapshot', 'x');
    provider.failNext('removeVolume', 'kiab-dev-worker-0-containerd');
    await assert.rejects(restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet }), /injected failure/);
    await restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.deepEqual(Object.fromEntries(provider.volumes.get('kiab-dev-worker-0-containerd')!.files), { data: 'at snapshot' });
  });

  it('rebuilds a cluster deleted with its snapshots kept', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    await saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    await deleteCluster(provider, 'dev', { keepSnapshots: true });
    assert.equal(provider.networks.has('kiab-dev'), false);
    const status = await restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.equal(status.state, 'running');
    assert.deepEqual(states(provider, ['kiab-dev-box', ...MACHINES]), ['running', 'running', 'running', 'running']);
  });
});

describe('snapshot captures cut short', () => {
  const s1Images = (provider: FakeProvider) => provider.images.filter((image) => image.labels[LABEL.snapshot] === 's1');

  it('save --force keeps the old snapshot when the new capture fails, and removes only the failed capture', async () => {
    const provider = engine();
    await snapshotThenChange(provider);
    const before = s1Images(provider).map((image) => image.id);
    provider.failNext('commitContainer', 'kiab-dev-worker-1');
    await assert.rejects(saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet, force: true }), /injected failure/);
    assert.deepEqual(
      s1Images(provider).map((image) => image.id),
      before,
      'the old capture is whole and nothing of the failed one is left',
    );
    await restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.equal(provider.volumes.get('kiab-dev-worker-0-containerd')!.files.get('data'), 'at snapshot');
  });

  it('save --force replaces the old capture once the new one is complete', async () => {
    const provider = engine();
    await snapshotThenChange(provider);
    const before = s1Images(provider).map((image) => image.id);
    await saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet, force: true });
    const after = s1Images(provider).map((image) => image.id);
    assert.equal(after.length, 4, 'one image per machine of the new capture');
    assert.ok(
      after.every((id) => !before.includes(id)),
      'no image of the old capture is left',
    );
  });

  it('a capture that lost a part is neither listed nor restored, and restore refuses before touching anything', async () => {
    const provider = engine();
    await snapshotThenChange(provider);
    // As a crash mid-capture leaves it: one machine's image never made.
    const image = s1Images(provider).find((candidate) => candidate.labels[LABEL.role] === 'worker')!;
    await provider.removeImage(image.tags[0]!);
    const before = inventory(provider, 'dev');
    await assert.rejects(restoreSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet }), /snapshot s1 of cluster dev is incomplete/);
    assert.deepEqual(inventory(provider, 'dev'), before);
    assert.deepEqual(await listSnapshots(provider, 'dev'), []);
    await saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet });
    assert.deepEqual(
      (await listSnapshots(provider, 'dev')).map((info) => info.name),
      ['s1'],
    );
  });
});

describe('snapshot save interrupted', () => {
  it('stops with AbortedError, thaws every machine, leaves nothing of the new capture and keeps the old one', async () => {
    const provider = engine();
    await snapshotThenChange(provider);
    const before = provider.images.filter((image) => image.labels[LABEL.snapshot] === 's1').map((image) => image.id);
    provider.resetCalls();
    await assert.rejects(saveSnapshot({ provider, cluster: 'dev', snapshot: 's1', reporter: quiet, force: true, signal: AbortSignal.abort() }), AbortedError);
    assert.deepEqual(namesOf(provider.calls, 'commitContainer'), [], 'no machine was captured after the interrupt');
    assert.ok(
      [...provider.containers.values()].every((container) => container.info.state !== 'paused'),
      'a machine was left frozen',
    );
    assert.deepEqual(
      provider.images.filter((image) => image.labels[LABEL.snapshot] === 's1').map((image) => image.id),
      before,
    );
  });
});
