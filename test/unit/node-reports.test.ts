import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { kubernetesNodes } from '../../src/cluster/kubernetes/api-ready.js';
import { untilNodeReports } from '../../src/cluster/lifecycle/node-reports.js';
import { startFakeKubeApi, type FakeKubeApi } from '../fakes/kube-api.js';

const WORKER = { name: 'kiab-dev-worker-0', role: 'worker' as const, index: 0, ip: '172.30.9.20' };

describe('an upgraded node', () => {
  let api: FakeKubeApi;
  afterEach(() => api.close());
  // The Kubernetes client loads on the first call, which took seconds on a loaded host: loaded before any
  // deadline below runs, so that a deadline measures the waiting, not the loading.
  before(async () => {
    const warm = await startFakeKubeApi();
    await kubernetesNodes(warm.kubeconfig());
    await warm.close();
  });

  it('counts only once its node reports the new version, and its agent is restarted when it keeps the old one', async () => {
    api = await startFakeKubeApi();
    // An upgrade killed between the binary swap and the restart: the old kubelet still runs.
    api.nodes = [{ name: WORKER.name, readySince: new Date(), kubeletVersion: 'v1.36.3' }];
    let restarts = 0;
    const restart = (): Promise<void> => {
      restarts += 1;
      api.nodes[0]!.kubeletVersion = 'v1.37.2';
      return Promise.resolve();
    };
    await untilNodeReports(api.kubeconfig(), WORKER, 'v1.37.2', restart, { deadline: Date.now() + 60_000, progress: () => undefined, restartAfterMs: 1500 });
    assert.equal(restarts, 1);
    assert.ok(api.requests.filter((request) => request === 'GET /api/v1/nodes').length >= 2);
  });

  it('names the version the node still reports at the deadline', async () => {
    api = await startFakeKubeApi();
    api.nodes = [{ name: WORKER.name, readySince: new Date(), kubeletVersion: 'v1.36.3' }];
    await assert.rejects(
      untilNodeReports(api.kubeconfig(), WORKER, 'v1.37.2', undefined, { deadline: Date.now() + 2000, progress: () => undefined }),
      /kiab-dev-worker-0 still reports v1.36.3, not v1.37.2/,
    );
  });
});
