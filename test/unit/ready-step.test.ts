import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { clusterContext } from '../../src/cluster/context.js';
import { finishKubernetes } from '../../src/cluster/kubernetes/wait-ready.js';
import type { Distribution, MachineRef } from '../../src/distribution/index.js';
import { noneDistribution } from '../../src/distribution/none.js';
import { parseSubnet } from '../../src/net/addresses.js';
import { engine, isolateFolders, quiet, specOf } from '../fakes/cluster.js';
import { startFakeKubeApi, type FakeKubeApi } from '../fakes/kube-api.js';

before(isolateFolders);

/** KEP-1755's ConfigMap in kube-public. */
const LOCAL_REGISTRY_HOSTING = 'local-registry-hosting';

/*
 * The one step that brings a Kubernetes cluster to ready, which `up` and `snapshot restore` both end with
 * (finishKubernetes): against an API in memory, with a distribution that has Kubernetes but nothing to install.
 */

const MACHINES: MachineRef[] = [
  { name: 'kiab-dev-server-0', role: 'server', index: 0, ip: '172.30.9.10' },
  { name: 'kiab-dev-worker-0', role: 'worker', index: 0, ip: '172.30.9.20' },
];

function setting(api: FakeKubeApi, restarted: string[]) {
  const distribution: Distribution = {
    ...noneDistribution,
    kubernetes: true,
    systemPods: ['kube-apiserver'],
    adminKubeconfig: () => Promise.resolve(api.kubeconfig()),
    restartNodeAgent: (_context, machine) => {
      restarted.push(machine.name);
      return Promise.resolve();
    },
  };
  const spec = specOf('dev', { servers: 1, workers: 1 }, { addons: [], wait: '20s' });
  const ports = { api: Number(new URL(api.server).port), http: 1, https: 2, registry: 5999 };
  return { ...clusterContext(engine(), spec, parseSubnet('172.30.9.0/24'), ports), distribution };
}

describe('the step that brings a cluster to ready', () => {
  let api: FakeKubeApi;
  let kubeDir: string;
  before(async () => {
    kubeDir = await mkdtemp(join(tmpdir(), 'kiab-ready-step-'));
  });
  afterEach(() => api.close());

  it('as up ends: waits for every node Ready and the system pods, publishes the registry and writes a 0600 kubeconfig entry', async () => {
    api = await startFakeKubeApi();
    api.nodes = MACHINES.map((machine) => ({ name: machine.name }));
    api.pods = [{ name: 'kube-apiserver-kiab-dev-server-0', startedAt: new Date() }];
    // The nodes turn Ready on the API's third look: the step must have waited for it.
    api.onListNodes = (looks) => {
      if (looks === 3) for (const node of api.nodes) node.readySince = new Date();
    };
    const path = join(kubeDir, 'up-config');
    await finishKubernetes(setting(api, []), MACHINES, quiet, { path, switchContext: true, apiAddress: 'localhost' });

    assert.ok(api.requests.filter((request) => request === 'GET /api/v1/nodes').length >= 3, 'it waited for the nodes');
    assert.deepEqual([...api.configMaps.keys()], [LOCAL_REGISTRY_HOSTING]);
    assert.match(api.configMaps.get(LOCAL_REGISTRY_HOSTING)!['localRegistryHosting.v1'] ?? '', /host: "?localhost:5999"?/);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const written = parse(await readFile(path, 'utf8')) as { 'current-context': string; clusters: Array<{ cluster: { server: string } }> };
    assert.equal(written['current-context'], 'kiab-dev');
    assert.equal(written.clusters[0]?.cluster.server, api.server);
  });

  it('as a restore ends: counts only what reported since, releases stale leases, restarts silent node agents, and keeps the current context', async () => {
    api = await startFakeKubeApi();
    const restoredAt = new Date();
    const captured = new Date(restoredAt.getTime() - 3_600_000);
    // What etcd remembers from the capture: every node Ready, the pods running, a controller's lease.
    api.nodes = MACHINES.map((machine) => ({ name: machine.name, readySince: captured }));
    api.pods = [{ name: 'kube-apiserver-kiab-dev-server-0', startedAt: captured }];
    api.leases = [
      { name: 'kube-controller-manager', holder: 'gone', renewed: captured, resourceVersion: '7' },
      { name: 'kube-scheduler', holder: 'new', renewed: new Date(restoredAt.getTime() + 1000), resourceVersion: '9' },
    ];
    const restarted: string[] = [];
    api.onListNodes = () => {
      // A restarted agent reports; its static pod starts again.
      for (const node of api.nodes) if (restarted.includes(node.name)) node.readySince = new Date(restoredAt.getTime() + 2000);
      if (restarted.length) api.pods = [{ name: 'kube-apiserver-kiab-dev-server-0', startedAt: new Date(restoredAt.getTime() + 2000) }];
    };
    // The user's file, whose current context is another cluster's: a restore adds its entry and leaves that alone.
    const path = join(kubeDir, 'restore-config');
    await writeFile(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'other', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'other', user: { token: 'x' } }],
        contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }],
        'current-context': 'other',
      }),
      { mode: 0o600 },
    );
    await finishKubernetes(
      setting(api, restarted),
      MACHINES,
      quiet,
      { path, switchContext: false, apiAddress: 'localhost' },
      {
        since: restoredAt,
        healthyLooks: 2,
        addons: 'await',
      },
    );

    assert.deepEqual(restarted.sort(), MACHINES.map((machine) => machine.name).sort());
    assert.deepEqual(
      api.leases.map((lease) => lease.name),
      ['kube-scheduler'],
    );
    const written = parse(await readFile(path, 'utf8')) as { 'current-context'?: string; contexts: Array<{ name: string }> };
    assert.deepEqual(written.contexts.map((context) => context.name).sort(), ['kiab-dev', 'other']);
    assert.equal(written['current-context'], 'other');
  });

  it('names what it still waits for at the deadline', async () => {
    api = await startFakeKubeApi();
    api.nodes = MACHINES.map((machine) => ({ name: machine.name, readySince: new Date() }));
    api.pods = [];
    const context = { ...setting(api, []), deadline: Date.now() + 1500 };
    await assert.rejects(finishKubernetes(context, MACHINES, quiet, undefined), /waiting for kube-apiserver to run/);
  });
});
