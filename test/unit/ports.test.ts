import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { addPort, listPorts, removePort } from '../../src/cluster/ports/ports.js';
import { clusterStatus } from '../../src/cluster/status.js';
import { forwardsFile } from '../../src/cluster/lifecycle/box.js';
import { UsageError } from '../../src/errors.js';
import { LABEL } from '../../src/labels.js';
import { loadBalancerConfig, loadBalancerPlan, renderHaproxy } from '../../src/loadbalancer/index.js';
import { parsePortMapping, type AddedPort } from '../../src/net/added-ports.js';
import { freePort } from '../../src/net/ports.js';
import { engine, isolateFolders, quiet, upCluster } from '../fakes/cluster.js';
import type { FakeProvider } from '../fakes/provider.js';

before(isolateFolders);

describe('port mappings', () => {
  it('reads HOSTPORT:TARGETPORT with tcp as the default protocol', () => {
    assert.deepEqual(parsePortMapping('8080:30991'), { hostPort: 8080, targetPort: 30991, protocol: 'tcp' });
    assert.deepEqual(parsePortMapping('5353:31053/udp'), { hostPort: 5353, targetPort: 31053, protocol: 'udp' });
  });

  it('says what is wrong with a bad one', () => {
    assert.equal(parsePortMapping('99999:80'), 'host port 99999 is outside 1-65535');
    assert.equal(parsePortMapping('80:0'), 'target port 0 is outside 1-65535');
    assert.match(parsePortMapping('80') as string, /is not HOSTPORT:TARGETPORT/);
    assert.match(parsePortMapping('80:81/sctp') as string, /is not HOSTPORT:TARGETPORT/);
  });
});

describe('added ports in the box', () => {
  const machines = [
    { name: 's0', role: 'server', ip: '10.0.0.10' },
    { name: 'w0', role: 'worker', ip: '10.0.0.50' },
    { name: 'w1', role: 'worker', ip: '10.0.0.51' },
  ];
  const port = (extra: Partial<AddedPort>): AddedPort => ({
    hostPort: 8080,
    targetPort: 30991,
    protocol: 'tcp',
    listen: '127.0.0.1',
    to: 'workers',
    boxPort: 20000,
    ...extra,
  });

  it('balances a TCP port over its machines from its box port', () => {
    const config = renderHaproxy(
      loadBalancerConfig(loadBalancerPlan(machines, {}, [port({}), port({ hostPort: 9090, boxPort: 20001, to: { machine: 's0' } })])),
      't',
    );
    assert.match(config, /frontend port-8080\n {2}bind :20000\n/);
    assert.match(config, /backend port-8080\n(.*\n)* {2}server w0 10\.0\.0\.50:30991 check\n {2}server w1 10\.0\.0\.51:30991 check\n/);
    assert.match(config, /backend port-9090\n {2}balance roundrobin\n {2}server s0 10\.0\.0\.10:30991 check\n/);
  });

  it('forwards a UDP port to one machine, from its box port to its target port', () => {
    assert.equal(
      forwardsFile('dev', undefined, [{ boxPort: 20002, targetPort: 31053, to: { name: 'w1', ip: '10.0.0.51' } }]),
      '# Written by kiab for cluster dev: PROTOCOL PORTS TARGET\nudp 20002 10.0.0.51:31053\n',
    );
  });
});

const machineCalls = (provider: FakeProvider): string[] =>
  provider.calls
    .filter(
      (call) =>
        ['createContainer', 'startContainer', 'stopContainer', 'removeContainer'].includes(call.method) && /-(server|worker)-\d+$/.test(call.name ?? ''),
    )
    .map((call) => `${call.method} ${call.name}`);
const haproxy = (provider: FakeProvider): string => provider.containers.get('kiab-dev-box')!.files.get('/etc/kiab/haproxy.cfg')!;
const containerNames = (provider: FakeProvider): string[] => [...provider.containers.keys()].sort();

describe('port add, rm and ls', () => {
  it('adds a door that publishes the host port, points the box at the machines, and touches no machine', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    const hostPort = await freePort();
    provider.resetCalls();
    const row = await addPort({ provider, reporter: quiet, cluster: 'dev', mapping: { hostPort, targetPort: 30991, protocol: 'tcp' }, to: 'workers' });
    assert.deepEqual(row, {
      name: `port-${hostPort}`,
      host: `127.0.0.1:${hostPort}`,
      protocol: 'tcp',
      target: '30991',
      to: 'workers',
      box: '172.28.0.2:20000',
      added: true,
    });
    assert.deepEqual(machineCalls(provider), []);
    const door = provider.containers.get(`kiab-dev-port-${hostPort}-tcp`)!;
    assert.equal(door.info.state, 'running');
    assert.deepEqual(door.spec.publish, [{ containerPort: 20000, protocol: 'tcp', hostIp: '127.0.0.1', hostPort }]);
    assert.equal(door.info.labels[LABEL.ip], '172.28.0.3');
    assert.match(door.files.get('/etc/kiab/forwards')!, /\ntcp 20000 172\.28\.0\.2\n/);
    assert.match(
      haproxy(provider),
      /backend port-\d+\n {2}balance roundrobin\n {2}server kiab-dev-worker-0 172\.28\.0\.50:30991 check\n {2}server kiab-dev-worker-1 172\.28\.0\.51:30991 check/,
    );
    const status = await clusterStatus(provider, 'dev');
    assert.deepEqual(
      status.ports.filter((port) => port.name.startsWith('port-')).map((port) => [port.name, port.host, port.box]),
      [[`port-${hostPort}`, `127.0.0.1:${hostPort}`, '172.28.0.2:20000']],
    );
    assert.deepEqual(
      (await listPorts({ provider, cluster: 'dev' })).map((port) => port.name),
      ['api', 'http', 'https', 'registry', `port-${hostPort}`],
    );

    await removePort({ provider, reporter: quiet, cluster: 'dev', hostPort });
    assert.equal(provider.containers.has(`kiab-dev-port-${hostPort}-tcp`), false);
    assert.doesNotMatch(haproxy(provider), /port-/);
    assert.deepEqual(machineCalls(provider), []);
  });

  it('refuses a duplicate, a port of the cluster, a port of another cluster and a missing machine, changing nothing', async () => {
    const provider = engine();
    const status = await upCluster(provider, 'dev');
    await upCluster(provider, 'other', { workers: 1 });
    const [mine, theirs] = [await freePort(), await freePort()];
    const mapping = (hostPort: number) => ({ hostPort, targetPort: 30991, protocol: 'tcp' as const });
    await addPort({ provider, reporter: quiet, cluster: 'dev', mapping: mapping(mine), to: 'workers' });
    await addPort({ provider, reporter: quiet, cluster: 'other', mapping: mapping(theirs), to: 'workers' });
    const before = { containers: containerNames(provider), haproxy: haproxy(provider) };
    provider.resetCalls();
    const api = Number(status.ports.find((port) => port.name === 'api')!.host!.split(':')[1]);
    for (const [wanted, to, message] of [
      [mine, 'workers', /already added to cluster dev/],
      [api, 'workers', /taken by the api port of cluster dev/],
      [theirs, 'workers', /taken by cluster other/],
      [await freePort(), { machine: 'worker-7' }, /--to: "worker-7" is not/],
    ] as const) {
      await assert.rejects(
        addPort({ provider, reporter: quiet, cluster: 'dev', mapping: mapping(wanted), to }),
        (error) => error instanceof UsageError && error.exitCode === 2 && message.test(error.message),
      );
    }
    assert.deepEqual({ containers: containerNames(provider), haproxy: haproxy(provider) }, before);
    assert.deepEqual(provider.callsOf('createContainer'), []);
  });

  it('removes the door again when the engine cannot publish the port, and says the port is taken', async () => {
    const provider = engine();
    await upCluster(provider, 'dev');
    const before = haproxy(provider);
    const hostPort = await freePort();
    provider.failNext('startContainer', `kiab-dev-port-${hostPort}-tcp`, new Error('Bind for 127.0.0.1 failed: port is already allocated'));
    await assert.rejects(
      addPort({ provider, reporter: quiet, cluster: 'dev', mapping: { hostPort, targetPort: 80, protocol: 'tcp' }, to: 'workers' }),
      (error) => error instanceof UsageError && /already in use/.test(error.message),
    );
    assert.equal(provider.containers.has(`kiab-dev-port-${hostPort}-tcp`), false);
    assert.equal(haproxy(provider), before);
  });
});
