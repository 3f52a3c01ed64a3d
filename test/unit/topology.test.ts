import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterNames } from '../../src/names.js';
import type { ObservedCluster } from '../../src/cluster/observe.js';
import { desiredMachines, forwardsFile, forwardTargets, machineSpecHash, withNames } from '../../src/cluster/topology.js';
import { parseSubnet } from '../../src/net/addresses.js';
import { parseSpec } from '../../src/spec/load.js';

const subnet = parseSubnet('172.29.0.0/24');
const empty: ObservedCluster = { name: 'dev', network: undefined, spec: undefined, ports: undefined, box: undefined, machines: [], volumes: [] };

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

  it('forwards the API to the first server and the rest to the first worker, or the server alone', () => {
    const spec = parseSpec({ flags: { workers: 0 } });
    const serverOnly = withNames(desiredMachines(spec, empty, subnet), clusterNames('dev'));
    assert.equal(forwardTargets(serverOnly)!.ingress.name, 'kiab-dev-server-0');
    const file = forwardsFile('dev', withNames(desiredMachines(parseSpec({ flags: { workers: 2 } }), empty, subnet), clusterNames('dev')));
    assert.match(file, /^tcp 6443 172\.29\.0\.10$/m);
    assert.match(file, /^tcp 80 172\.29\.0\.50$/m);
    assert.match(file, /^tcp 30000:32767 172\.29\.0\.50$/m);
    assert.match(file, /^udp 30000:32767 172\.29\.0\.50$/m);
  });

  it('hashes only what shapes a machine', () => {
    const base = parseSpec({ flags: { name: 'a' } });
    assert.equal(machineSpecHash(base), machineSpecHash(parseSpec({ flags: { name: 'b', workers: 4 } })));
    assert.notEqual(machineSpecHash(base), machineSpecHash(parseSpec({ flags: { name: 'a' }, fileText: 'images:\n  node: my/node:1\n' })));
  });
});
