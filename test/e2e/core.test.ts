import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  docker,
  eventually,
  hostPort,
  kiab,
  kiabJson,
  kiabOk,
  labelledObjects,
  makeBusyboxImage,
  readTcp,
  run,
  startGreeter,
  type StatusJson,
} from './helpers.js';

const CLUSTER = 'e2e-core';
const SECOND = 'e2e-side';
const node = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;

describe('a cluster of machines on a real engine', () => {
  let status: StatusJson;

  before(async () => {
    await kiab(['delete', CLUSTER, SECOND]);
    status = await kiabJson<StatusJson>(['up', CLUSTER, '--k8s', 'none', '--servers', '1', '--workers', '2']);
  });

  after(async () => {
    await kiab(['delete', CLUSTER, SECOND]);
  });

  it('up creates the network, the box and 1 server + 2 workers with systemd running', async () => {
    assert.equal(status.state, 'running');
    assert.deepEqual(
      status.nodes.map((machine) => machine.name),
      [node('server', 0), node('worker', 0), node('worker', 1)],
    );
    for (const machine of status.nodes) assert.ok(machine.system === 'running' || machine.system === 'degraded', `${machine.name}: ${machine.system}`);
    const objects = await labelledObjects(CLUSTER);
    assert.deepEqual(objects.networks, [`kiab-${CLUSTER}`]);
    assert.deepEqual(objects.containers.sort(), [`kiab-${CLUSTER}-box`, node('server', 0), node('worker', 0), node('worker', 1)]);
    // systemd as seen from inside, not through kiab's own status code.
    const inside = await docker(['exec', node('worker', 1), 'systemctl', 'is-system-running']).catch((error: Error) => error.message);
    assert.match(inside, /running|degraded/);
  });

  it('gives fixed addresses: box .2, servers from .10, workers from .50', async () => {
    const prefix = status.address!.split('.').slice(0, 3).join('.');
    assert.equal(status.address, `${prefix}.2`);
    const engineView = await docker([
      'inspect',
      '-f',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
      node('server', 0),
      node('worker', 0),
      node('worker', 1),
    ]);
    assert.deepEqual(engineView.split('\n'), [`${prefix}.10`, `${prefix}.50`, `${prefix}.51`]);
  });

  it('status -o json carries the cluster, nodes and ports', async () => {
    const again = await kiabJson<StatusJson>(['status', CLUSTER]);
    assert.equal(again.name, CLUSTER);
    assert.equal(again.distribution, 'none');
    assert.equal(again.box.state, 'running');
    assert.deepEqual(again.ports.map((port) => port.name).sort(), ['api', 'http', 'https', 'nodeports', 'nodeports-udp', 'registry']);
    const api = again.ports.find((port) => port.name === 'api')!;
    assert.deepEqual([api.via, api.backends.map((backend) => backend.machine)], ['load-balancer', [node('server', 0)]]);
    const text = await kiabOk(['status', CLUSTER]);
    assert.match(text.stdout, /Failed units/);
    assert.match(text.stdout, new RegExp(node('worker', 1)));
  });

  it('list shows the cluster with its nodes ready', async () => {
    const rows = await kiabJson<Array<{ name: string; nodesReady: number; nodesTotal: number; state: string }>>(['list']);
    const row = rows.find((candidate) => candidate.name === CLUSTER);
    assert.deepEqual(row && { ready: row.nodesReady, total: row.nodesTotal, state: row.state }, { ready: 3, total: 3, state: 'running' });
  });

  it('exec runs in the machine and passes the exit code through', async () => {
    const hostname = await kiabOk(['exec', node('worker', 0), '--', 'cat', '/etc/hostname']);
    assert.equal(hostname.stdout.trim(), node('worker', 0));
    const failed = await kiab(['exec', node('worker', 0), '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(failed.code, 7);
    assert.equal(failed.stdout.trim(), 'out');
    assert.equal(failed.stderr.trim(), 'err');
    const short = await kiabOk(['exec', '--cluster', CLUSTER, 'server-0', '--', 'hostname']);
    assert.equal(short.stdout.trim(), node('server', 0));
  });

  it('an image pushed from the host to localhost:PORT is pulled and run with ctr inside a worker', async () => {
    const registry = status.registry!.host;
    assert.match(registry, /^localhost:\d+$/);
    const image = `${registry}/busybox:e2e`;
    await makeBusyboxImage(image);
    await docker(['push', image]);
    const pull = await kiab(['exec', node('worker', 1), '--', 'ctr', '-n', 'e2e', 'images', 'pull', '--hosts-dir', '/etc/containerd/certs.d', image]);
    assert.equal(pull.code, 0, pull.stderr + pull.stdout);
    const ran = await kiab([
      'exec',
      node('worker', 1),
      '--',
      'ctr',
      '-n',
      'e2e',
      'run',
      '--rm',
      image,
      'e2e-hello',
      '/busybox',
      'echo',
      'hello-from-nested-container',
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trim(), 'hello-from-nested-container');
  });

  it('the box passes NodePort 30080 on to the worker that serves it, via the cluster address', async () => {
    await startGreeter(node('worker', 0), 30080);
    const greeting = await eventually(() => readTcp(status.address!, 30080));
    assert.equal(greeting.trim(), `greeting-from-${node('worker', 0)}`);
  });

  it('the box publishes the API and HTTP ports on loopback only, passed on to server and worker', async () => {
    await startGreeter(node('server', 0), 6443);
    await startGreeter(node('worker', 0), 80);
    assert.equal((await eventually(() => readTcp('127.0.0.1', hostPort(status, 'api')))).trim(), `greeting-from-${node('server', 0)}`);
    assert.equal((await eventually(() => readTcp('127.0.0.1', hostPort(status, 'http')))).trim(), `greeting-from-${node('worker', 0)}`);
    const bindings = await docker(['inspect', '-f', '{{json .HostConfig.PortBindings}}', `kiab-${CLUSTER}-box`]);
    for (const binding of Object.values(JSON.parse(bindings) as Record<string, Array<{ HostIp: string }>>)) assert.equal(binding[0]!.HostIp, '127.0.0.1');
  });

  it('forwarding lives in the box: the host tables gain no rule naming a machine', async () => {
    const save = await run('iptables-save', []);
    assert.equal(save.code, 0, save.stderr);
    for (const machine of status.nodes) assert.ok(!save.stdout.includes(`${machine.ip}`), `host iptables mention ${machine.name} (${machine.ip})`);
    const inBox = await docker(['exec', `kiab-${CLUSTER}-box`, 'iptables', '-t', 'nat', '-S', 'KIAB-PREROUTING']);
    assert.match(inBox, new RegExp(`--dport 30000:32767 .*--to-destination ${(status.nodes[1]!.ip ?? '').replace(/\./g, '\\.')}`));
  });

  it('a second cluster runs side by side with its own network, ports and names', async () => {
    const second = await kiabJson<StatusJson>(['up', SECOND, '--k8s', 'none', '--workers', '0']);
    assert.equal(second.state, 'running');
    assert.notEqual(second.address!.split('.').slice(0, 3).join('.'), status.address!.split('.').slice(0, 3).join('.'));
    const ours = new Set(status.ports.map((port) => port.host).filter(Boolean));
    for (const port of second.ports) if (port.host) assert.ok(!ours.has(port.host), `port ${port.host} shared`);
    // Without workers the server takes the web and NodePort traffic.
    await startGreeter(`kiab-${SECOND}-server-0`, 30080);
    assert.equal((await eventually(() => readTcp(second.address!, 30080))).trim(), `greeting-from-kiab-${SECOND}-server-0`);
    const first = await eventually(() => readTcp(status.address!, 30080));
    assert.equal(first.trim(), `greeting-from-${node('worker', 0)}`);
    await kiabOk(['delete', SECOND]);
    assert.deepEqual(await labelledObjects(SECOND), { containers: [], networks: [], volumes: [] });
  });

  it('node add, stop, start and rm', async () => {
    const added = await kiabJson<{ name: string; state: string; system: string; ip: string }>(['node', 'add', '--cluster', CLUSTER, '--role', 'worker']);
    assert.equal(added.name, node('worker', 2));
    assert.equal(added.state, 'running');
    assert.match(added.system, /running|degraded/);
    assert.equal(added.ip, `${status.address!.split('.').slice(0, 3).join('.')}.52`);

    const stopped = await kiabJson<{ state: string }>(['node', 'stop', node('worker', 2)]);
    assert.equal(stopped.state, 'exited');
    assert.equal(await docker(['inspect', '-f', '{{.State.Status}}', node('worker', 2)]), 'exited');
    const degraded = await kiabJson<StatusJson>(['status', CLUSTER]);
    assert.equal(degraded.state, 'degraded');

    const started = await kiabJson<{ state: string; system: string }>(['node', 'start', node('worker', 2)]);
    assert.equal(started.state, 'running');
    assert.match(started.system, /running|degraded/);

    await kiabOk(['node', 'rm', node('worker', 2)]);
    const objects = await labelledObjects(CLUSTER);
    assert.ok(!objects.containers.includes(node('worker', 2)));
    assert.ok(!objects.volumes.some((volume) => volume.startsWith(`${node('worker', 2)}-`)), `volumes left: ${objects.volumes.join(',')}`);
  });

  it('refuses to remove the only server', async () => {
    const result = await kiab(['node', 'rm', node('server', 0)]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /only server/);
    assert.equal(await docker(['inspect', '-f', '{{.State.Status}}', node('server', 0)]), 'running');
  });

  it("a machine killed behind kiab's back shows in status, and up brings it back", async () => {
    await docker(['kill', node('worker', 1)]);
    // The restart policy leaves a killed container alone only for "unless-stopped" after an explicit stop;
    // a kill counts as a crash, so the engine may restart it on its own. Either way status must say the truth.
    await docker(['update', '--restart', 'no', node('worker', 1)]);
    await docker(['kill', node('worker', 1)]).catch(() => undefined);
    const seen = await kiabJson<StatusJson>(['status', CLUSTER]);
    const worker = seen.nodes.find((machine) => machine.name === node('worker', 1))!;
    assert.equal(worker.state, 'exited');
    assert.equal(seen.state, 'degraded');
    const healed = await kiabJson<StatusJson>(['up', CLUSTER]);
    assert.equal(healed.state, 'running');
    assert.equal(healed.nodes.length, 3, 'up converges, it does not duplicate');
  });

  it('up on an existing cluster converges without duplicating anything', async () => {
    const before = await labelledObjects(CLUSTER);
    const again = await kiabJson<StatusJson>(['up', CLUSTER]);
    assert.equal(again.state, 'running');
    assert.deepEqual(await labelledObjects(CLUSTER), before);
  });

  it('delete removes every labelled container, network and volume; deleting again exits 0', async () => {
    await kiabOk(['delete', CLUSTER]);
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
    const again = await kiab(['delete', CLUSTER]);
    assert.equal(again.code, 0, again.stderr);
  });
});
