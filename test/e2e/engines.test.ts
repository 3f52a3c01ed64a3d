import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultNodeImage } from '../../src/images/index.js';
import { endpointFromHost } from '../../src/provider/docker/connect.js';
import { DockerProvider } from '../../src/provider/docker/provider.js';
import type { ContainerSpec } from '../../src/provider/types.js';
import { eventually, kiab, labelledObjects, run, tempDir } from './helpers.js';
import { dockerOn, removeStandInEngines, startStandInEngines, type StandInEngine } from './engines-harness.js';

const CLUSTER = 'e2e-eng';

/** What a token looks like: it must appear in no output. */
const JOIN_TOKEN = /SWMTKN-/;

async function writeConfig(engines: Array<{ name: string; host: string }>): Promise<string> {
  const file = join(await tempDir('kiab-engines-'), 'kiab.yaml');
  const listed = engines.map((engine) => `  - name: ${engine.name}\n    host: ${engine.host}\n`).join('');
  await writeFile(file, `name: ${CLUSTER}\ndistribution: none\nworkers: 1\nengines:\n${listed}`);
  return file;
}

/** Nothing of the cluster on any stand-in engine, nor on this host's engine. */
async function nothingMade(engines: StandInEngine[]): Promise<void> {
  const filter = `label=dev.kiab.cluster=${CLUSTER}`;
  for (const engine of engines) {
    assert.equal(await dockerOn(engine, ['ps', '-aq', '--filter', filter]), '', engine.container);
    assert.equal(await dockerOn(engine, ['network', 'ls', '-q', '--filter', filter]), '', engine.container);
    assert.equal(await dockerOn(engine, ['volume', 'ls', '-q', '--filter', filter]), '', engine.container);
  }
  assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
}

async function swarmState(engine: StandInEngine): Promise<string> {
  return dockerOn(engine, ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}']);
}

async function leaveSwarms(engines: StandInEngine[]): Promise<void> {
  for (const engine of engines) await run('docker', ['-H', engine.host, 'swarm', 'leave', '--force']);
}

/** The refusal's commands, one per engine line (`  engine NAME (HOST) what: COMMAND`). */
function commandsOf(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('  engine '))
    .map((line) => line.slice(line.indexOf(': docker') + 2));
}

describe('a cluster over several engines: the swarm check', () => {
  let engines: StandInEngine[];
  let config: string;

  before(async () => {
    await removeStandInEngines();
    engines = await startStandInEngines('e2e-eng', 2);
    config = await writeConfig(engines.map((engine, index) => ({ name: `e${index}`, host: engine.host })));
  });

  after(async () => {
    await removeStandInEngines();
  });

  it('engines in no swarm: up exits 1 with one line per engine naming the exact docker command, no token, nothing made', async (t) => {
    const started = Date.now();
    const result = await kiab(['up', '-c', config]);
    assert.equal(result.code, 1, result.stderr);
    const [a, b] = engines as [StandInEngine, StandInEngine];
    const lines = result.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      'kiab: the engines are not members of one swarm, and kiab made nothing; run:',
      `  engine e0 (${a.host}) is in no swarm; make it the first manager: docker -H ${a.host} swarm init --advertise-addr ${a.address} >/dev/null`,
      `  engine e1 (${b.host}) is in no swarm; join it to e0's: docker -H ${b.host} swarm join --token "$(docker -H ${a.host} swarm join-token -q worker)" "$(docker -H ${a.host} info --format '{{.Swarm.NodeAddr}}')":2377`,
      'or let kiab run them: `kiab engines join` with this kiab.yaml',
    ]);
    assert.doesNotMatch(result.stderr, JOIN_TOKEN);
    t.diagnostic(`refused in ${Date.now() - started} ms`);
    await nothingMade(engines);
  });

  it('the commands it names, run as printed, make one swarm; up then passes the check and refuses several engines, exit 2, nothing made', async () => {
    const refused = await kiab(['up', '-c', config]);
    for (const command of commandsOf(refused.stderr)) {
      const ran = await run('bash', ['-c', command]);
      assert.equal(ran.code, 0, `${command}: ${ran.stderr}`);
      assert.doesNotMatch(ran.stdout + ran.stderr, JOIN_TOKEN);
    }
    assert.equal(await swarmState(engines[0]!), 'active true');
    assert.equal(await swarmState(engines[1]!), 'active false');
    const result = await kiab(['up', '-c', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr.trim(),
      /^kiab: engines: the engines are one swarm, but a cluster over several engines is not supported yet, and kiab made nothing; /,
    );
    assert.equal(result.stderr.trim().split('\n').length, 1);
    await nothingMade(engines);
  });

  it('an engine in another swarm: up names it with swarm leave, and engines join refuses to touch it', async () => {
    await leaveSwarms(engines);
    const [a, b] = engines as [StandInEngine, StandInEngine];
    await dockerOn(a, ['swarm', 'init', '--advertise-addr', a.address]);
    await dockerOn(b, ['swarm', 'init', '--advertise-addr', b.address]);
    const result = await kiab(['up', '-c', config]);
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      'kiab: the engines are not members of one swarm, and kiab made nothing; run:',
      `  engine e1 (${b.host}) is in another swarm than e0's; leave that one, then join: docker -H ${b.host} swarm leave && docker -H ${b.host} swarm join --token "$(docker -H ${a.host} swarm join-token -q worker)" ${a.address}:2377`,
    ]);
    const joined = await kiab(['engines', 'join', '-c', config]);
    assert.equal(joined.code, 1, joined.stderr);
    assert.match(joined.stderr, /engine e1 .* is in another swarm than e0's/);
    assert.equal(await swarmState(b), 'active true', 'e1 still manages its own swarm');
    await nothingMade(engines);
  });

  it('kiab engines join makes engines in no swarm one: the first the manager, the other a worker; up then passes the check', async () => {
    await leaveSwarms(engines);
    const joined = await kiab(['engines', 'join', '-c', config]);
    assert.equal(joined.code, 0, joined.stderr);
    assert.equal(joined.stdout, 'engine e0: made the manager of a new swarm\nengine e1: joined the swarm as a worker\n');
    assert.doesNotMatch(joined.stdout + joined.stderr, JOIN_TOKEN);
    assert.equal(await swarmState(engines[0]!), 'active true');
    assert.equal(await swarmState(engines[1]!), 'active false');
    const nodes = await dockerOn(engines[0]!, ['node', 'ls', '--format', '{{.Hostname}}']);
    assert.deepEqual(nodes.split('\n').sort(), ['e2e-eng-0', 'e2e-eng-1']);
    const again = await kiab(['engines', 'join', '-c', config]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'engine e0: was a member already\nengine e1: was a member already\n');
    const up = await kiab(['up', '-c', config]);
    assert.equal(up.code, 2, up.stderr);
    const none = join(await tempDir('kiab-engines-'), 'kiab.yaml');
    await writeFile(none, `name: ${CLUSTER}\n`);
    const nothingToJoin = await kiab(['engines', 'join', '-c', none]);
    assert.equal(nothingToJoin.code, 2, nothingToJoin.stderr);
    assert.match(nothingToJoin.stderr, /^kiab: --config: .* lists no engines; /);
    assert.match(up.stderr, /several engines is not supported yet/);
    await nothingMade(engines);
  });

  it("kiab's engine calls over real engines of one swarm: an overlay made on the manager, a machine on each engine at a fixed address, reaching the other", async (t) => {
    const image = defaultNodeImage();
    const started = Date.now();
    for (const engine of engines) {
      const loaded = await run('bash', ['-c', `docker save ${image} | docker -H ${engine.host} load -q`]);
      assert.equal(loaded.code, 0, loaded.stderr);
    }
    t.diagnostic(`machine image loaded into both engines in ${Date.now() - started} ms`);
    const [manager, worker] = engines.map((engine) => new DockerProvider(endpointFromHost(engine.host, undefined, process.env))) as [
      DockerProvider,
      DockerProvider,
    ];
    const labels = { 'dev.kiab.e2e': 'engines' };
    const network = 'e2e-eng-overlay';
    await manager.createNetwork({ name: network, subnet: '10.213.7.0/24', gateway: '10.213.7.1', labels, overlay: true });
    const machine = (index: number): ContainerSpec => ({
      name: `e2e-eng-m${index}`,
      hostname: `e2e-eng-m${index}`,
      image,
      labels,
      kind: 'machine',
      network: { name: network, ip: `10.213.7.${10 + index}` },
      volumes: [{ name: `e2e-eng-m${index}-containerd`, path: '/var/lib/containerd', labels }],
      publish: [],
    });
    const placed = [manager, worker];
    for (const [index, provider] of placed.entries()) {
      await provider.createContainer(machine(index));
      await provider.startContainer(machine(index).name);
    }
    for (const [index, provider] of placed.entries()) {
      // As kiab waits for a machine: systemd's word on its console first (no exec before it), then its state.
      await provider.waitForLog(machine(index).name, /Reached target .*(Multi-User System|multi-user\.target)|Startup finished/, {
        sinceSeconds: 0,
        timeoutMs: 120_000,
      });
      const booted = await provider.exec(machine(index).name, ['systemctl', 'is-system-running', '--wait']);
      assert.match(booted.stdout, /running|degraded/, `${machine(index).name}: ${booted.stdout}${booted.stderr}`);
    }
    t.diagnostic(`both machines booted ${Date.now() - started} ms after the start`);
    const listening = await worker.exec('e2e-eng-m1', [
      'systemd-run',
      '--unit=e2e-greeter',
      'socat',
      'TCP-LISTEN:7000,fork,reuseaddr',
      'SYSTEM:echo greeting-from-$(hostname)',
    ]);
    assert.equal(listening.exitCode, 0, listening.stderr);
    const answer = await eventually(
      async () => {
        const reply = await manager.exec('e2e-eng-m0', ['socat', '-T5', '-', 'TCP:10.213.7.11:7000']);
        if (!reply.stdout.includes('greeting-from-e2e-eng-m1')) throw new Error(`no greeting yet: ${reply.stdout}${reply.stderr}`);
        return reply.stdout.trim();
      },
      30_000,
      500,
    );
    assert.equal(answer, 'greeting-from-e2e-eng-m1');
    const inspected = await worker.inspectContainer('e2e-eng-m1');
    assert.equal(inspected?.addresses[network], '10.213.7.11');
    for (const [index, provider] of placed.entries()) await provider.removeContainer(machine(index).name);
    await manager.removeNetwork(network);
  });

  it('an engine given as a docker context: reached through it, and named with `docker --context` in the commands', async () => {
    const [a, b] = engines as [StandInEngine, StandInEngine];
    const dockerConfig = await tempDir('kiab-docker-config-');
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
    const made = await run('docker', ['context', 'create', 'e2e-eng-ctx', '--docker', `host=${b.host}`], { env });
    assert.equal(made.code, 0, made.stderr);
    const file = await writeConfig([
      { name: 'e0', host: a.host },
      { name: 'e1', host: 'e2e-eng-ctx' },
    ]);
    const member = await kiab(['up', '-c', file], { env });
    assert.equal(member.code, 2, member.stderr);
    assert.match(member.stderr, /several engines is not supported yet/);
    await dockerOn(b, ['swarm', 'leave', '--force']);
    const refused = await kiab(['up', '-c', file], { env });
    assert.equal(refused.code, 1, refused.stderr);
    const command = `docker --context e2e-eng-ctx swarm join --token "$(docker -H ${a.host} swarm join-token -q worker)" ${a.address}:2377`;
    assert.deepEqual(refused.stderr.trim().split('\n').slice(1), [
      `  engine e1 (e2e-eng-ctx) is in no swarm; join it to e0's: ${command}`,
      'or let kiab run them: `kiab engines join` with this kiab.yaml',
    ]);
    const ran = await run('bash', ['-c', `${command} >/dev/null`], { env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal((await kiab(['up', '-c', file], { env })).code, 2);
    await nothingMade(engines);
  });

  it('an engine that never answers is named within seconds, the others checked all the same', async (t) => {
    const path = join(await tempDir('kiab-silent-'), 'engine.sock');
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket.on('error', () => undefined)));
    silent.listen(path);
    await once(silent, 'listening');
    try {
      const file = await writeConfig([
        { name: 'e0', host: engines[0]!.host },
        { name: 'hung', host: `unix://${path}` },
      ]);
      const started = Date.now();
      const result = await kiab(['up', '-c', file], { timeoutMs: 60_000 });
      const took = Date.now() - started;
      assert.equal(result.code, 1, result.stderr);
      assert.ok(took < 15_000, `took ${took} ms`);
      assert.deepEqual(result.stderr.trim().split('\n'), [
        'kiab: the engines are not members of one swarm, and kiab made nothing; run:',
        `  engine hung (unix://${path}) did not answer within 5 s; check that it runs and answers: docker -H unix://${path} info`,
      ]);
      t.diagnostic(`a hung engine named in ${took} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
