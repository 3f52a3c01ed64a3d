import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ensureNetwork } from '../../src/cluster/lifecycle/foundation.js';
import { observeCluster } from '../../src/cluster/lifecycle/observe.js';
import { up } from '../../src/cluster/lifecycle/up.js';
import { KiabError, UsageError } from '../../src/errors.js';
import { LABEL } from '../../src/labels.js';
import type { ClusterSpecInput } from '../../src/spec/schema.js';
import { freePort, type HostPorts } from '../../src/net/ports.js';
import { clusterNames } from '../../src/names.js';
import { BOX_IMAGE, engine, inventory, isolateFolders, machineNames, namesOf, NODE_IMAGE, positionsOf, quiet, specOf, upCluster } from '../fakes/cluster.js';
import type { FakeProvider, Method } from '../fakes/provider.js';

before(isolateFolders);

/** Runs `up` again and checks that it made nothing and started nothing: the cluster had converged. */
async function assertUpIsNoOp(provider: FakeProvider, cluster: string): Promise<void> {
  provider.resetCalls();
  const status = await upCluster(provider, cluster);
  assert.equal(status.state, 'running');
  for (const method of ['createNetwork', 'createContainer', 'startContainer', 'unpauseContainer'] as const)
    assert.deepEqual(namesOf(provider.calls, method), [], `second up called ${method}`);
}

describe('up from nothing', () => {
  it('takes the next /24 when the engine refuses one it does not list as taken', async () => {
    const provider = engine();
    // Docker answers this way for a pool another network is taking at the same moment, or one it still holds.
    for (let refusal = 0; refusal < 3; refusal += 1)
      provider.failNext('createNetwork', 'kiab-dev', new Error('(HTTP code 403) unexpected - Pool overlaps with other one on this address space'));
    await upCluster(provider, 'dev');
    assert.equal(provider.networks.get('kiab-dev')!.subnet, '172.28.3.0/24');
  });

  it('creates the network, then the box beside the machines at their fixed addresses, and reports running', async () => {
    const provider = engine();
    const status = await upCluster(provider, 'dev', { servers: 2, workers: 2 });
    assert.equal(status.state, 'running');
    assert.equal(status.address, '172.28.0.2');

    const network = provider.networks.get('kiab-dev')!;
    assert.equal(network.subnet, '172.28.0.0/24', 'the first free /24 of the pool, clear of the bridge network');
    assert.equal(network.labels[LABEL.cluster], 'dev');
    assert.equal(JSON.parse(network.labels[LABEL.spec]!).workers, 2);

    const expected: Record<string, string> = {
      'kiab-dev-box': '.2',
      'kiab-dev-server-0': '.10',
      'kiab-dev-server-1': '.11',
      'kiab-dev-worker-0': '.50',
      'kiab-dev-worker-1': '.51',
    };
    assert.deepEqual([...provider.containers.keys()].sort(), Object.keys(expected).sort());
    for (const [name, host] of Object.entries(expected)) {
      const { info } = provider.containers.get(name)!;
      assert.equal(info.state, 'running', name);
      assert.equal(info.addresses['kiab-dev'], `172.28.0${host}`, name);
      assert.equal(info.labels[LABEL.ip], `172.28.0${host}`, name);
      assert.equal(info.labels[LABEL.cluster], 'dev', name);
      assert.ok(LABEL.managed in info.labels, name);
    }
    const worker = provider.containers.get('kiab-dev-worker-1')!.info;
    assert.equal(worker.image, NODE_IMAGE);
    assert.equal(worker.labels[LABEL.role], 'worker');
    assert.equal(worker.labels[LABEL.index], '1');
    assert.equal(provider.containers.get('kiab-dev-box')!.info.image, BOX_IMAGE);
    assert.equal(provider.containers.get('kiab-dev-box')!.info.labels[LABEL.role], 'box');
    assert.deepEqual(provider.volumes.get('kiab-dev-worker-1-containerd')?.labels[LABEL.cluster], 'dev');

    const [network0] = positionsOf(provider, 'createNetwork');
    const [box] = positionsOf(provider, 'createContainer', (name) => name === 'kiab-dev-box');
    const machines = positionsOf(provider, 'createContainer', (name) => name !== 'kiab-dev-box');
    assert.ok(network0! < box! && network0! < Math.min(...machines), 'the network before the box and the machines');
  });

  it("writes each container's files before its first start", async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    for (const name of ['kiab-dev-box', ...machineNames('dev', 1, 2)]) {
      const [written] = positionsOf(provider, 'writeFiles', (target) => target === name);
      const [started] = positionsOf(provider, 'startContainer', (target) => target === name);
      assert.ok(written !== undefined && written < started!, `${name}: files after start`);
    }
    assert.match(provider.containers.get('kiab-dev-box')!.files.get('/etc/kiab/haproxy.cfg')!, /^ {2}server kiab-dev-server-0 172\.28\.0\.10:6443 check$/m);
    assert.match(provider.containers.get('kiab-dev-box')!.files.get('/etc/kiab/forwards')!, /^udp 30000:32767 172\.28\.0\.50$/m);
  });

  it('creates nothing on a second run', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    await assertUpIsNoOp(provider, 'dev');
  });

  it('adds only the machines a larger spec asks for', async () => {
    const provider = engine();
    await upCluster(provider, 'dev', { workers: 1 });
    provider.resetCalls();
    await upCluster(provider, 'dev', { workers: 3 });
    assert.deepEqual(namesOf(provider.calls, 'createContainer').sort(), ['kiab-dev-worker-1', 'kiab-dev-worker-2']);
    assert.deepEqual(namesOf(provider.calls, 'createNetwork'), []);
    assert.equal(provider.containers.get('kiab-dev-worker-2')!.info.addresses['kiab-dev'], '172.28.0.52');
  });
});

interface PartialState {
  title: string;
  /** Takes the fresh cluster kiab-dev (1 server, 2 workers) back to a partial state. */
  breakIt: (provider: FakeProvider) => Promise<void>;
  created: string[];
  started?: string[];
  unpaused?: string[];
}

const removeWithVolumes = async (provider: FakeProvider, names: string[]): Promise<void> => {
  for (const name of names) {
    await provider.removeContainer(name);
    for (const volume of [...provider.volumes.keys()]) if (volume.startsWith(`${name}-`)) await provider.removeVolume(volume);
  }
};

const MACHINES = machineNames('dev', 1, 2);

const partialStates: PartialState[] = [
  {
    title: 'only the network exists',
    breakIt: (provider) => removeWithVolumes(provider, ['kiab-dev-box', 'kiab-dev-registry', ...MACHINES]),
    created: ['kiab-dev-box', ...MACHINES],
  },
  { title: 'the network and the box exist', breakIt: (provider) => removeWithVolumes(provider, MACHINES), created: MACHINES },
  { title: 'a machine is missing', breakIt: (provider) => removeWithVolumes(provider, ['kiab-dev-worker-1']), created: ['kiab-dev-worker-1'] },
  { title: 'a machine is stopped', breakIt: (provider) => provider.stopContainer('kiab-dev-worker-0'), created: [], started: ['kiab-dev-worker-0'] },
  {
    title: 'a machine is paused',
    breakIt: (provider) => provider.pauseContainer('kiab-dev-server-0'),
    created: [],
    started: [],
    unpaused: ['kiab-dev-server-0'],
  },
  { title: 'the box is stopped', breakIt: (provider) => provider.stopContainer('kiab-dev-box'), created: [], started: ['kiab-dev-box'] },
  {
    // Killed just after asking for it: the engine, still filling its volumes, takes the name before it lists it.
    title: 'the engine is still making a machine a killed run asked for',
    breakIt: async (provider) => {
      const spec = provider.containers.get('kiab-dev-worker-1')!.spec;
      await removeWithVolumes(provider, ['kiab-dev-worker-1']);
      await provider.createContainer(spec);
      provider.beingMade.set('kiab-dev-worker-1', 3);
    },
    created: ['kiab-dev-worker-1'],
    started: ['kiab-dev-worker-1'],
  },
];

describe('up converges from a partial cluster', () => {
  for (const state of partialStates) {
    it(`when ${state.title}: creates only what is missing, and a second up nothing`, async () => {
      const provider = engine();
      await upCluster(provider, 'dev');
      const fresh = inventory(provider, 'dev');
      await state.breakIt(provider);
      provider.resetCalls();

      await upCluster(provider, 'dev');
      assert.deepEqual(namesOf(provider.calls, 'createNetwork'), []);
      assert.deepEqual(namesOf(provider.calls, 'createContainer').sort(), [...state.created].sort());
      if (state.started) assert.deepEqual(namesOf(provider.calls, 'startContainer'), state.started);
      if (state.unpaused) assert.deepEqual(namesOf(provider.calls, 'unpauseContainer'), state.unpaused);
      assert.deepEqual(inventory(provider, 'dev'), fresh);
      await assertUpIsNoOp(provider, 'dev');
    });
  }
});

/** A spec that two engines turn into identical objects: fixed subnet and host ports. */
async function fixedSpec() {
  const ports = new Set<number>();
  while (ports.size < 4) ports.add(await freePort());
  const [api, http, https, registry] = [...ports];
  return specOf('dev', {}, { network: { subnet: '172.29.7.0/24' }, ports: { api, http, https, registry } });
}

const injected: Array<{ method: Method; name?: string }> = [
  { method: 'createNetwork' },
  { method: 'createContainer', name: 'kiab-dev-box' },
  { method: 'startContainer', name: 'kiab-dev-box' },
  { method: 'createContainer', name: 'kiab-dev-worker-0' },
  { method: 'startContainer', name: 'kiab-dev-worker-1' },
  { method: 'waitForLog', name: 'kiab-dev-server-0' },
  { method: 'exec', name: 'kiab-dev-worker-0' },
];

/** Crashes between creating a container and writing its files: the next up starts it without them (see the report). */
const knownGaps: Array<{ method: Method; name?: string }> = [
  { method: 'writeFiles', name: 'kiab-dev-box' },
  { method: 'writeFiles', name: 'kiab-dev-worker-1' },
];

async function assertFailureConverges(failure: { method: Method; name?: string }): Promise<void> {
  const spec = await fixedSpec();
  const reference = engine();
  await up({ provider: reference, spec, reporter: quiet, snapshot: false });

  const provider = engine();
  provider.failNext(failure.method, failure.name);
  await assert.rejects(up({ provider, spec, reporter: quiet, snapshot: false }), /injected failure/);
  const status = await up({ provider, spec, reporter: quiet, snapshot: false });
  assert.equal(status.state, 'running');
  assert.deepEqual(inventory(provider, 'dev'), inventory(reference, 'dev'));
  await assertUpIsNoOp(provider, 'dev');
}

describe('up after a failure mid-way', () => {
  for (const failure of injected) {
    it(`rejects when ${failure.method} ${failure.name ?? ''} fails, and the next up converges`, () => assertFailureConverges(failure));
  }
  for (const failure of knownGaps) {
    it(`rejects when ${failure.method} ${failure.name} fails, and the next up converges`, () => assertFailureConverges(failure));
  }
});

describe('up with pod and service ranges', () => {
  it("refuses a named range over another cluster's network with exit 1, before anything is made", async () => {
    const provider = engine();
    await upCluster(provider, 'web');
    provider.resetCalls();
    const spec = specOf('dev', {}, { distribution: 'kubeadm', networking: { serviceSubnet: '172.28.0.0/16' } });
    await assert.rejects(
      up({ provider, spec, reporter: quiet, snapshot: false }),
      (error) =>
        error instanceof KiabError &&
        !(error instanceof UsageError) &&
        error.exitCode === 1 &&
        error.message === 'networking.serviceSubnet: 172.28.0.0/16 overlaps the engine network kiab-web (172.28.0.0/24, cluster web)',
    );
    for (const method of ['createNetwork', 'createContainer', 'createVolume'] as const) assert.deepEqual(namesOf(provider.calls, method), [], method);
  });

  it('picks the cluster network clear of the ranges the spec names', async () => {
    const provider = engine();
    const spec = specOf('dev', {}, { distribution: 'kubeadm', networking: { podSubnet: '172.28.0.0/16' } });
    const ports: HostPorts = { api: 41001, http: 41002, https: 41003, registry: 41004 };
    const subnet = await ensureNetwork(provider, spec, clusterNames('dev'), await observeCluster(provider, 'dev'), ports);
    assert.equal(subnet.cidr, '172.29.0.0/24');
  });
});

describe('up on an existing cluster', () => {
  it('refuses a distribution, version or port the user sets that differs from what the cluster was made with, and changes nothing', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    const before = inventory(provider, 'dev');
    const cases: Array<{ extra: Partial<ClusterSpecInput>; given: string[]; field: RegExp }> = [
      { extra: { distribution: 'kubeadm' }, given: ['distribution'], field: /^--k8s: cluster dev was made with none/ },
      { extra: { ports: { api: 1 } }, given: ['ports.api'], field: /^ports\.api: cluster dev was made with \d+, and up cannot change it to 1$/ },
      { extra: { images: { node: 'other/node:1', box: BOX_IMAGE } }, given: ['images.node'], field: /^images\.node: / },
    ];
    for (const { extra, given, field } of cases) {
      await assert.rejects(
        up({ provider, spec: specOf('dev', {}, extra), given, reporter: quiet, snapshot: false }),
        (error) => error instanceof UsageError && field.test(error.message),
      );
    }
    assert.deepEqual(inventory(provider, 'dev'), before);
  });

  it('takes the same values given again, and defaults it did not set, as they are', async () => {
    const provider = engine();
    const status = await upCluster(provider, 'dev');
    const api = Number(status.ports.find((port) => port.name === 'api')?.host?.split(':')[1]);
    await up({ provider, spec: specOf('dev', {}, { ports: { api } }), given: ['ports.api', 'distribution'], reporter: quiet, snapshot: false });
    // Not given: a default distribution different from the cluster's is no request to change it.
    await up({ provider, spec: specOf('dev', {}, { distribution: 'kubeadm' }), given: ['workers'], reporter: quiet, snapshot: false });
  });
});
