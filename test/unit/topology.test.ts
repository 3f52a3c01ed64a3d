import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterNames } from '../../src/names.js';
import type { ObservedCluster } from '../../src/cluster/lifecycle/observe.js';
import { desiredMachines, machineSpecHash, withNames } from '../../src/cluster/lifecycle/topology.js';
import { parseSubnet } from '../../src/net/addresses.js';
import { parseSpec } from '../../src/spec/load.js';

const subnet = parseSubnet('172.29.0.0/24');
const empty: ObservedCluster = {
  name: 'dev',
  network: undefined,
  lan: undefined,
  spec: undefined,
  ports: undefined,
  box: undefined,
  machines: [],
  added: [],
  volumes: [],
};

describe('topology', () => {
  it('wants the spec machines plus any added later, never fewer', () => {
    const spec = parseSpec({ flags: { name: 'dev', servers: 1, workers: 2 } });
    const added = { ...empty, machines: [{ role: 'worker' as const, index: 5, container: {} as never }] };
    const machines = withNames(desiredMachines(spec, added, subnet), clusterNames('dev'));
    assert.deepEqual(
      machines.map((machine) => machine.name),
      ['kiab-dev-server-0', 'kiab-dev-worker-0', 'kiab-dev-worker-1', 'kiab-dev-worker-5'],
    );
    assert.equal(machines[3]!.ip, '172.29.0.55');
  });

  it('hashes only what shapes a machine', () => {
    const base = parseSpec({ flags: { name: 'a' } });
    assert.equal(machineSpecHash(base), machineSpecHash(parseSpec({ flags: { name: 'b', workers: 4 } })));
    assert.notEqual(machineSpecHash(base), machineSpecHash(parseSpec({ flags: { name: 'a' }, fileText: 'images:\n  node: my/node:1\n' })));
  });
});
