import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { docker, eventually, hostPort, kiab, kiabJson, kiabOk, labelledObjects, readTcp, startGreeter, type StatusJson } from './helpers.js';

const CLUSTER = 'pt-ports';
const node = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;
const MACHINES = [node('server', 0), node('worker', 0), node('worker', 1)];

interface PortRow {
  name: string;
  host: string;
  protocol: string;
  target: string;
  to: string;
  box: string;
  added: boolean;
}

/** A port nothing listens on now, from the kernel. */
async function freeHostPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Each machine's container id and start time, from the engine. */
async function machineLives(): Promise<string[]> {
  return (await docker(['inspect', '-f', '{{.Name}} {{.Id}} {{.State.StartedAt}}', ...MACHINES])).split('\n');
}

/** GET /v2/ on the registry, answered by the registry in the box through its published port: true on a 200. */
function registryAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/', timeout: 250 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Polls the registry every 20 ms while `work` runs and returns the longest time without an answer. A bare
 * cluster has no API: the registry is the box's service that answers on a published port, and it stops
 * answering whenever the box does (a box made again, restarted, or its ports dropped).
 */
async function longestOutage(port: number, work: () => Promise<unknown>): Promise<number> {
  let done = false;
  let lastAnswer = Date.now();
  let longest = 0;
  const polling = (async () => {
    while (!done) {
      const asked = Date.now();
      if (await registryAnswers(port)) {
        longest = Math.max(longest, asked - lastAnswer);
        lastAnswer = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await work();
  await new Promise((resolve) => setTimeout(resolve, 300));
  done = true;
  await polling;
  return Math.max(longest, Date.now() - lastAnswer - 300);
}

const greeting = (port: number): Promise<string> => readTcp('127.0.0.1', port, 3000);

describe('kiab port: host ports added to a running cluster', () => {
  let status: StatusJson;
  let added: number;

  before(async () => {
    await kiab(['delete', CLUSTER]);
    status = await kiabJson<StatusJson>(['up', CLUSTER, '--k8s', 'none', '--servers', '1', '--workers', '2']);
    await startGreeter(node('worker', 0), 30991);
    await startGreeter(node('worker', 1), 30991);
  });

  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('port add reaches a listener on the workers, restarts no machine and keeps the registry answering', async () => {
    const lives = await machineLives();
    added = await freeHostPort();
    const outage = await longestOutage(hostPort(status, 'registry'), () => kiabOk(['port', 'add', CLUSTER, `${added}:30991`]));
    assert.ok(outage <= 1000, `the registry did not answer for ${outage} ms`);
    // Round robin over both workers: two connections meet both.
    const seen = new Set([await greeting(added), await greeting(added), await greeting(added)].map((text) => text.trim()));
    assert.deepEqual([...seen].sort(), [`greeting-from-${node('worker', 0)}`, `greeting-from-${node('worker', 1)}`]);
    assert.deepEqual(await machineLives(), lives);
  });

  it('status and port ls show the added port', async () => {
    const after = await kiabJson<StatusJson>(['status', CLUSTER]);
    const row = after.ports.find((port) => port.name === `port-${added}`);
    assert.deepEqual(row && [row.host, row.via, row.backends.map((backend) => backend.machine)], [
      `127.0.0.1:${added}`,
      'load-balancer',
      [node('worker', 0), node('worker', 1)],
    ]);
    const rows = await kiabJson<PortRow[]>(['port', 'ls', CLUSTER]);
    assert.deepEqual(
      rows.filter((port) => port.added).map((port) => [port.name, port.host, port.protocol, port.target, port.to]),
      [[`port-${added}`, `127.0.0.1:${added}`, 'tcp', '30991', 'workers']],
    );
    assert.match((await kiabOk(['port', 'ls', CLUSTER])).stdout, new RegExp(`port-${added} +127\\.0\\.0\\.1:${added} +tcp +30991 +workers`));
  });

  it('the added port survives a restart of the box', async () => {
    await docker(['restart', `kiab-${CLUSTER}-box`]);
    assert.match(await eventually(() => greeting(added), 30_000), /greeting-from-kiab-pt-ports-worker-\d/);
    const rows = await kiabJson<PortRow[]>(['port', 'ls', CLUSTER]);
    assert.ok(rows.some((port) => port.name === `port-${added}`));
  });

  it('the added port survives kiab reset, which restores the machines from their clean snapshot', async () => {
    await kiabOk(['reset', CLUSTER]);
    // The machines are as they were made: the greeters are started anew.
    await startGreeter(node('worker', 0), 30991);
    await startGreeter(node('worker', 1), 30991);
    assert.match(await eventually(() => greeting(added), 30_000), /greeting-from-kiab-pt-ports-worker-\d/);
    const rows = await kiabJson<PortRow[]>(['port', 'ls', CLUSTER]);
    assert.ok(rows.some((port) => port.name === `port-${added}`));
  });

  it('refuses a taken host port, a duplicate and a bad spec with exit 2, changing nothing', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as { port: number }).port;
    try {
      const objects = await labelledObjects(CLUSTER);
      const ports = (await kiabOk(['port', 'ls', CLUSTER])).stdout;
      for (const [args, message] of [
        [[`${taken}:30991`], new RegExp(`HOSTPORT: ${taken}/tcp is already in use on 127\\.0\\.0\\.1`)],
        [[`${added}:30991`], new RegExp(`HOSTPORT: ${added}/tcp is already added to cluster ${CLUSTER}`)],
        [['99999:80'], /HOSTPORT:TARGETPORT: host port 99999 is outside 1-65535/],
      ] as const) {
        const result = await kiab(['port', 'add', CLUSTER, ...args]);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, message);
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      }
      assert.deepEqual(await labelledObjects(CLUSTER), objects);
      assert.equal((await kiabOk(['port', 'ls', CLUSTER])).stdout, ports);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('port rm closes the port and leaves the rest answering', async () => {
    await kiabOk(['port', 'rm', CLUSTER, String(added)]);
    await assert.rejects(greeting(added));
    assert.ok(!(await labelledObjects(CLUSTER)).containers.includes(`kiab-${CLUSTER}-port-${added}-tcp`));
    assert.ok(await registryAnswers(hostPort(status, 'registry')));
    const rows = await kiabJson<PortRow[]>(['port', 'ls', CLUSTER]);
    assert.deepEqual(
      rows.filter((port) => port.added),
      [],
    );
  });
});
