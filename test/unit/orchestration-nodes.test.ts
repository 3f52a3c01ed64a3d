import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { addNode, removeNode, startNode, stopNode } from '../../src/cluster/lifecycle/nodes.js';
import { KiabError, UsageError } from '../../src/errors.js';
import { LABEL } from '../../src/labels.js';
import { engine, inventory, isolateFolders, namesOf, quiet, upCluster } from '../fakes/cluster.js';
import type { FakeProvider } from '../fakes/provider.js';

before(isolateFolders);

const boxFile = (provider: FakeProvider, cluster: string, path: string): string => provider.containers.get(`kiab-${cluster}-box`)!.files.get(path)!;
/** The servers of one backend of the box's load balancer, as `name address` lines. */
const backend = (provider: FakeProvider, cluster: string, name: string): string[] =>
  (
    boxFile(provider, cluster, '/etc/kiab/haproxy.cfg')
      .split('\n\n')
      .find((block) => block.startsWith(`backend ${name}\n`)) ?? ''
  )
    .split('\n')
    .filter((line) => line.trim().startsWith('server '))
    .map((line) => line.trim().split(' ').slice(1, 3).join(' '));

describe('node add', () => {
  it('adds worker-N at the next index and its fixed address, creating nothing else', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    provider.resetCalls();
    const node = await addNode({ provider, reporter: quiet, cluster: 'dev', role: 'worker' });
    assert.equal(node.name, 'kiab-dev-worker-2');
    assert.equal(node.ip, '172.28.0.52');
    assert.equal(node.state, 'running');
    assert.deepEqual(namesOf(provider.calls, 'createContainer'), ['kiab-dev-worker-2']);
    assert.equal(provider.containers.get('kiab-dev-worker-2')!.info.labels[LABEL.index], '2');
    assert.ok(provider.volumes.has('kiab-dev-worker-2-containerd'));
  });

  it('never reuses the index of a removed machine, and adds servers after the last server', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    await removeNode({ provider, reporter: quiet, node: 'worker-0', cluster: 'dev' });
    assert.equal((await addNode({ provider, reporter: quiet, cluster: 'dev', role: 'worker' })).name, 'kiab-dev-worker-2');
    const server = await addNode({ provider, reporter: quiet, cluster: 'dev', role: 'server' });
    assert.deepEqual([server.name, server.ip], ['kiab-dev-server-1', '172.28.0.11']);
  });

  it('refuses a cluster that does not exist', async () => {
    await assert.rejects(
      addNode({ provider: engine(), reporter: quiet, cluster: 'ghost', role: 'worker' }),
      (error) => error instanceof KiabError && /cluster ghost does not exist/.test(error.message),
    );
  });
});

describe('node rm', () => {
  it("removes the machine and its volumes only, not another machine's or another cluster's", async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    // Every volume of this cluster starts with kiab-dev-worker-1-, the prefix of dev's worker-1 volumes.
    await upCluster(provider, 'dev-worker-1', { workers: 1 });
    const neighbour = inventory(provider, 'dev-worker-1');
    const volumesBefore = [...provider.volumes.keys()];

    await removeNode({ provider, reporter: quiet, node: 'worker-1', cluster: 'dev' });
    assert.equal(provider.containers.has('kiab-dev-worker-1'), false);
    assert.deepEqual(
      [...provider.volumes.keys()],
      volumesBefore.filter((name) => name !== 'kiab-dev-worker-1-containerd'),
    );
    assert.deepEqual(inventory(provider, 'dev-worker-1'), neighbour);
  });

  it('takes a removed worker out of the box load balancer and points UDP at the next one', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    assert.deepEqual(backend(provider, 'dev', 'http'), ['kiab-dev-worker-0 172.28.0.50:80', 'kiab-dev-worker-1 172.28.0.51:80']);
    await removeNode({ provider, reporter: quiet, node: 'kiab-dev-worker-0' });
    assert.deepEqual(backend(provider, 'dev', 'http'), ['kiab-dev-worker-1 172.28.0.51:80']);
    assert.deepEqual(backend(provider, 'dev', 'nodeports'), ['kiab-dev-worker-1 172.28.0.51']);
    assert.match(boxFile(provider, 'dev', '/etc/kiab/forwards'), /^udp 30000:32767 172\.28\.0\.51$/m);
    assert.ok(provider.calls.some((call) => call.method === 'exec' && call.name === 'kiab-dev-box' && String(call.args[0]).includes('kiab-box-lb,reload')));
  });

  it('takes the first server out of the API backend when it goes, and back in when up makes it again', async () => {
    const provider = engine();
    await upCluster(provider, 'dev', { servers: 2 });
    await removeNode({ provider, reporter: quiet, node: 'server-0', cluster: 'dev' });
    assert.deepEqual(backend(provider, 'dev', 'api'), ['kiab-dev-server-1 172.28.0.11:6443']);
    await upCluster(provider, 'dev', { servers: 2 });
    assert.deepEqual(backend(provider, 'dev', 'api'), ['kiab-dev-server-0 172.28.0.10:6443', 'kiab-dev-server-1 172.28.0.11:6443']);
  });

  it('refuses to remove the only server, with a usage error', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    const before = inventory(provider, 'dev');
    await assert.rejects(
      removeNode({ provider, reporter: quiet, node: 'server-0', cluster: 'dev' }),
      (error) => error instanceof UsageError && error.exitCode === 2,
    );
    assert.deepEqual(inventory(provider, 'dev'), before);
  });
});

describe('node stop and start', () => {
  it('stops one machine and starts it again, leaving the others alone', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    provider.resetCalls();
    assert.equal((await stopNode({ provider, reporter: quiet, node: 'worker-1', cluster: 'dev' })).state, 'exited');
    const started = await startNode({ provider, reporter: quiet, node: 'worker-1', cluster: 'dev' });
    assert.equal(started.state, 'running');
    assert.equal(started.system, 'running');
    assert.deepEqual(namesOf(provider.calls, 'stopContainer'), ['kiab-dev-worker-1']);
    assert.deepEqual(namesOf(provider.calls, 'startContainer'), ['kiab-dev-worker-1']);
  });

  it('thaws a paused machine instead of starting it', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    await provider.pauseContainer('kiab-dev-worker-0');
    provider.resetCalls();
    assert.equal((await startNode({ provider, reporter: quiet, node: 'worker-0', cluster: 'dev' })).state, 'running');
    assert.deepEqual(namesOf(provider.calls, 'unpauseContainer'), ['kiab-dev-worker-0']);
    assert.deepEqual(namesOf(provider.calls, 'startContainer'), []);
  });
});

describe('node names', () => {
  it('refuses a full node name of another cluster than --cluster, in one line', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    await upCluster(provider, 'other', { workers: 1 });
    await assert.rejects(
      removeNode({ provider, reporter: quiet, node: 'kiab-other-worker-0', cluster: 'dev' }),
      (error) => error instanceof UsageError && error.message === 'NODE: kiab-other-worker-0 is a machine of cluster other, not of --cluster dev',
    );
    assert.ok(provider.containers.has('kiab-other-worker-0'), "the other cluster's machine is untouched");
  });
});
