import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterNames, compareMachines, parseMachineName } from '../../src/names.js';
import { LABEL, decodeIndex, decodeJsonLabel, encodeJsonLabel } from '../../src/labels.js';

describe('naming', () => {
  it('derives every object name from the cluster name', () => {
    const names = clusterNames('dev');
    assert.equal(names.network, 'kiab-dev');
    assert.equal(names.box, 'kiab-dev-box');
    assert.equal(names.machine('worker', 2), 'kiab-dev-worker-2');
    assert.equal(names.volume('kiab-dev-worker-2', 'containerd'), 'kiab-dev-worker-2-containerd');
    assert.equal(names.kubeContext, 'kiab-dev');
  });

  it('parses machine names back, including clusters with dashes', () => {
    assert.deepEqual(parseMachineName('kiab-my-dev-server-10'), { cluster: 'my-dev', role: 'server', index: 10, name: 'kiab-my-dev-server-10' });
    assert.equal(parseMachineName('kiab-dev-box'), undefined);
    assert.equal(parseMachineName('dev-worker-0'), undefined);
    assert.equal(parseMachineName('kiab-dev-worker-x'), undefined);
  });

  it('reads short names within a cluster and refuses a full name of another cluster', () => {
    assert.deepEqual(parseMachineName('worker-3', 'dev'), { cluster: 'dev', role: 'worker', index: 3, name: 'kiab-dev-worker-3' });
    assert.equal(parseMachineName('worker-3'), undefined);
    assert.equal(parseMachineName('kiab-other-worker-0', 'dev'), undefined);
    assert.equal(parseMachineName('kiab-dev-worker-0', 'dev')?.name, 'kiab-dev-worker-0');
  });

  it("never gives a snapshot object the name of another cluster's live object", () => {
    // Cluster "a" with snapshot "clean" against cluster "a-snap-clean": the old scheme made the same volume name.
    const snapshot = clusterNames('a').snapshotVolume('clean', 'g1', 'server', 0, 'containerd');
    const other = clusterNames('a-snap-clean');
    assert.notEqual(snapshot, other.volume(other.machine('server', 0), 'containerd'));
    assert.match(snapshot, /^kiab-snapshot\.a\.clean\.g1\.server-0\.containerd$/);
  });

  it('orders servers before workers, each by index', () => {
    const machines = [
      { role: 'worker' as const, index: 1 },
      { role: 'server' as const, index: 2 },
      { role: 'worker' as const, index: 0 },
      { role: 'server' as const, index: 0 },
    ];
    assert.deepEqual(
      [...machines].sort(compareMachines).map((machine) => `${machine.role}-${machine.index}`),
      ['server-0', 'server-2', 'worker-0', 'worker-1'],
    );
  });
});

describe('label encoding', () => {
  it('round-trips JSON labels and tolerates corrupt ones', () => {
    const labels = { [LABEL.ports]: encodeJsonLabel({ api: 1 }), broken: '{', [LABEL.index]: '3' };
    assert.deepEqual(
      decodeJsonLabel(labels, LABEL.ports, (raw) => raw),
      { api: 1 },
    );
    assert.equal(
      decodeJsonLabel(labels, 'broken', (raw) => raw),
      undefined,
    );
    assert.equal(
      decodeJsonLabel(labels, 'absent', (raw) => raw),
      undefined,
    );
    assert.equal(decodeIndex(labels), 3);
    assert.equal(decodeIndex({ [LABEL.index]: '-1' }), undefined);
  });
});
