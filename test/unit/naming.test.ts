import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterNames, parseMachineName } from '../../src/cluster/names.js';
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
    assert.deepEqual(parseMachineName('kiab-my-dev-server-10'), { cluster: 'my-dev', role: 'server', index: 10 });
    assert.equal(parseMachineName('kiab-dev-box'), undefined);
    assert.equal(parseMachineName('dev-worker-0'), undefined);
    assert.equal(parseMachineName('kiab-dev-worker-x'), undefined);
  });
});

describe('label encoding', () => {
  it('round-trips JSON labels and tolerates corrupt ones', () => {
    const labels = { [LABEL.ports]: encodeJsonLabel({ api: 1 }), broken: '{', [LABEL.index]: '3' };
    assert.deepEqual(decodeJsonLabel(labels, LABEL.ports, (raw) => raw), { api: 1 });
    assert.equal(decodeJsonLabel(labels, 'broken', (raw) => raw), undefined);
    assert.equal(decodeJsonLabel(labels, 'absent', (raw) => raw), undefined);
    assert.equal(decodeIndex(labels), 3);
    assert.equal(decodeIndex({ [LABEL.index]: '-1' }), undefined);
  });
});
