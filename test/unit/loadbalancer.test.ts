import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadBalancerConfig, loadBalancerPlan, parseShowStat, renderHaproxy, type LoadBalancerChecks } from '../../src/loadbalancer/index.js';

const machine = (role: string, index: number) => ({ name: `kiab-dev-${role}-${index}`, role, ip: `172.29.0.${role === 'server' ? 10 + index : 50 + index}` });
const render = (machines: ReturnType<typeof machine>[], checks: LoadBalancerChecks = {}) =>
  renderHaproxy(loadBalancerConfig(loadBalancerPlan(machines, checks)), 'test');

/** The lines of one section, without indentation. */
function section(config: string, header: string): string[] {
  const blocks = config.split('\n\n');
  const block = blocks.find((candidate) => candidate.split('\n')[0] === header);
  assert.ok(block, `no section ${header} in\n${config}`);
  return block
    .split('\n')
    .slice(1)
    .map((line) => line.trim());
}

describe('load balancer configuration', () => {
  const cases = [
    {
      what: 'the API over every server, web and NodePorts over every worker',
      machines: [machine('server', 0), machine('server', 1), machine('worker', 0), machine('worker', 1)],
      api: ['server kiab-dev-server-0 172.29.0.10:6443 check', 'server kiab-dev-server-1 172.29.0.11:6443 check'],
      http: ['server kiab-dev-worker-0 172.29.0.50:80 check', 'server kiab-dev-worker-1 172.29.0.51:80 check'],
      nodeports: ['server kiab-dev-worker-0 172.29.0.50', 'server kiab-dev-worker-1 172.29.0.51'],
    },
    {
      what: 'without workers, the servers take web and NodePorts',
      machines: [machine('server', 0), machine('server', 1)],
      api: ['server kiab-dev-server-0 172.29.0.10:6443 check', 'server kiab-dev-server-1 172.29.0.11:6443 check'],
      http: ['server kiab-dev-server-0 172.29.0.10:80 check', 'server kiab-dev-server-1 172.29.0.11:80 check'],
      nodeports: ['server kiab-dev-server-0 172.29.0.10', 'server kiab-dev-server-1 172.29.0.11'],
    },
  ];
  for (const { what, machines, api, http, nodeports } of cases) {
    it(what, () => {
      const config = render(machines);
      assert.deepEqual(
        section(config, 'backend api').filter((line) => line.startsWith('server ')),
        api,
      );
      assert.deepEqual(
        section(config, 'backend http').filter((line) => line.startsWith('server ')),
        http,
      );
      assert.deepEqual(
        section(config, 'backend nodeports').filter((line) => line.startsWith('server ')),
        nodeports,
      );
      assert.deepEqual(section(config, 'frontend nodeports'), ['bind :30000-32767', 'default_backend nodeports']);
    });
  }

  it('checks each API with a verified HTTPS request once the CA is known, TCP connect before', () => {
    const machines = [machine('server', 0), machine('worker', 0)];
    assert.ok(!section(render(machines), 'backend api').some((line) => line.includes('httpchk') || line.includes('ssl')));
    const checked = section(render(machines, { api: { path: '/readyz', caFile: '/etc/kiab/api-ca.crt' } }), 'backend api');
    assert.ok(checked.includes('option httpchk'));
    assert.ok(checked.includes('http-check send meth GET uri /readyz'));
    assert.ok(checked.includes('server kiab-dev-server-0 172.29.0.10:6443 check check-ssl verify required ca-file /etc/kiab/api-ca.crt'));
    assert.ok(!render(machines).includes('verify none'));
  });

  it('checks NodePorts through the service proxy health port when the distribution has one', () => {
    const machines = [machine('server', 0), machine('worker', 0)];
    const checked = section(render(machines, { nodePorts: { port: 10256, path: '/healthz' } }), 'backend nodeports');
    assert.ok(checked.includes('server kiab-dev-worker-0 172.29.0.50 check port 10256'));
    assert.ok(checked.includes('http-check send meth GET uri /healthz'));
  });

  it('retries a refused connection on another machine', () => {
    const defaults = section(render([machine('server', 0)]), 'defaults');
    assert.ok(defaults.includes('option redispatch 1'));
    assert.ok(defaults.includes('mode tcp'));
  });

  it('checks a server that is down ten times a second, one changing state four times, one that is up every second', () => {
    const defaults = section(render([machine('server', 0)]), 'defaults');
    assert.ok(defaults.includes('default-server inter 1s fastinter 250ms downinter 100ms fall 2 rise 1'), defaults.join('\n'));
  });

  it('refuses a token that could break out of its line', () => {
    assert.throws(() => render([{ name: 'evil\n  server x', role: 'server', ip: '1.2.3.4' }]), /token/);
    assert.throws(() => render([{ name: 'a b', role: 'server', ip: '1.2.3.4' }]), /token/);
  });
});

describe('load balancer health', () => {
  // `show stat` as HAProxy 3.0 (Debian trixie's, the box's) printed it for a 1+2 cluster of bare machines.
  const sample = readFileSync(new URL('../fixtures/haproxy-show-stat.csv', import.meta.url), 'utf8');

  it('reads each backend server and leaves frontends and totals out', () => {
    const health = parseShowStat(sample);
    assert.deepEqual(
      health.map(({ backend, server, health: state }) => `${backend}/${server}=${state}`),
      [
        'api/kiab-ha-none-server-0=down',
        'http/kiab-ha-none-worker-0=down',
        'http/kiab-ha-none-worker-1=down',
        'https/kiab-ha-none-worker-0=down',
        'https/kiab-ha-none-worker-1=down',
        'nodeports/kiab-ha-none-worker-0=unchecked',
        'nodeports/kiab-ha-none-worker-1=unchecked',
      ],
    );
    assert.equal(health[0]!.check, 'L4CON');
  });

  const transitions = [
    { status: 'UP', health: 'up' },
    { status: 'UP 1/2', health: 'up' },
    { status: 'DOWN 1/2', health: 'down' },
    { status: 'DOWN', health: 'down' },
    { status: 'MAINT', health: 'maintenance' },
    { status: 'no check', health: 'unchecked' },
  ];
  for (const { status, health } of transitions) {
    it(`reads "${status}" as ${health}`, () => {
      const csv = '# pxname,svname,status,check_status\napi,BACKEND,UP,\napi,s0,' + status + ',L7OK\n';
      assert.deepEqual(parseShowStat(csv), [{ backend: 'api', server: 's0', health, check: 'L7OK' }]);
    });
  }

  it('gives nothing for output that is not a stat table', () => {
    assert.deepEqual(parseShowStat('Unknown command\n'), []);
  });
});
