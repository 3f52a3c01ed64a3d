import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { boxAddress, machineAddress, MAX_SERVER_INDEX, MAX_WORKER_INDEX, parseSubnet, pickFreeSubnet, RESERVED_HOSTS } from '../../src/net/addresses.js';
import { cidrsOverlap } from '../../src/net/cidr.js';
import { isPortFree, planHostPorts } from '../../src/net/ports.js';

describe('addresses', () => {
  const subnet = parseSubnet('172.28.4.0/24');
  it('gives fixed addresses by role and index', () => {
    assert.equal(boxAddress(subnet), '172.28.4.2');
    assert.equal(machineAddress(subnet, 'server', 0), '172.28.4.10');
    assert.equal(machineAddress(subnet, 'worker', 0), '172.28.4.50');
    assert.equal(machineAddress(subnet, 'worker', 149), '172.28.4.199');
    assert.throws(() => machineAddress(subnet, 'server', 40), RangeError);
    assert.throws(() => machineAddress(subnet, 'worker', 150), RangeError);
  });
  it('gives no machine an address of the load balancer pool (.200-.250)', () => {
    const hosts = [...Array(MAX_SERVER_INDEX + 1).keys()]
      .map((index) => machineAddress(subnet, 'server', index))
      .concat([...Array(MAX_WORKER_INDEX + 1).keys()].map((index) => machineAddress(subnet, 'worker', index)))
      .concat([boxAddress(subnet)])
      .map((address) => Number(address.split('.')[3]));
    assert.deepEqual(
      hosts.filter((host) => host >= RESERVED_HOSTS.first && host <= RESERVED_HOSTS.last),
      [],
    );
  });
  it('detects overlapping networks', () => {
    assert.ok(cidrsOverlap('172.28.0.0/24', '172.16.0.0/12'));
    assert.ok(!cidrsOverlap('172.28.0.0/24', '172.17.0.0/16'));
    assert.ok(cidrsOverlap('10.0.0.0/8', '10.200.3.0/24'));
  });
  it('picks the first /24 clear of every subnet in use', () => {
    assert.equal(pickFreeSubnet([]), '172.28.0.0/24');
    assert.equal(pickFreeSubnet(['172.28.0.0/24', '172.28.1.0/24', '172.17.0.0/16']), '172.28.2.0/24');
    assert.equal(pickFreeSubnet(['172.28.0.0/14']), undefined);
  });
});

describe('host port planning', () => {
  it('keeps fixed ports and fills the rest with distinct free ones', async () => {
    const plan = await planHostPorts({ api: 16443 }, new Map(), async () => true);
    assert.ok('ports' in plan);
    assert.equal(plan.ports.api, 16443);
    const values = Object.values(plan.ports);
    assert.equal(new Set(values).size, 4);
  });
  it('refuses a port another cluster owns, even while that cluster is stopped', async () => {
    const plan = await planHostPorts({ http: 8080 }, new Map([[8080, 'other']]), async () => true);
    assert.deepEqual(plan, { conflict: { name: 'http', port: 8080, reason: 'claimed', by: 'other' } });
  });
  it('refuses a port that is really in use on loopback', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal(await isPortFree(port), false);
      const plan = await planHostPorts({ registry: port }, new Map());
      assert.deepEqual(plan, { conflict: { name: 'registry', port, reason: 'in-use' } });
    } finally {
      server.close();
    }
    assert.equal(await isPortFree(port), true);
  });
});
