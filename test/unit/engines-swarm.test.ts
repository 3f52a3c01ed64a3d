import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { dockerAt, initCommand, joinCommand } from '../../src/cluster/engines/docker-cli.js';
import { joinEngines } from '../../src/cluster/engines/join.js';
import { ensureOneSwarm, NotOneSwarmError } from '../../src/cluster/engines/one-swarm.js';
import { up } from '../../src/cluster/lifecycle/up.js';
import { KiabError, UsageError } from '../../src/errors.js';
import { membershipOf } from '../../src/provider/docker/swarm.js';
import { engine, isolateFolders, quiet, specOf } from '../fakes/cluster.js';
import { FakeSwarms } from '../fakes/swarm.js';

before(isolateFolders);

const A = { name: 'a', host: 'tcp://10.0.0.2:2375' };
const B = { name: 'b', host: 'tcp://10.0.0.3:2375' };
const C = { name: 'c', host: 'tcp://10.0.0.4:2375' };

function world(...hosts: string[]): FakeSwarms {
  const swarms = new FakeSwarms();
  for (const host of hosts) swarms.add(host, new URL(host).hostname);
  return swarms;
}

/** The refusal's lines, after its first. */
async function refusal(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NotOneSwarmError, String(error));
    assert.equal(error.exitCode, 1);
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'the engines are not members of one swarm, and kiab made nothing; run:');
    return lines.slice(1);
  }
  assert.fail('not refused');
}

const JOIN_B_TO_A = `docker -H tcp://10.0.0.3:2375 swarm join --token "$(docker -H tcp://10.0.0.2:2375 swarm join-token -q worker)"`;

describe('engines in one swarm: the check before anything is made', () => {
  it('passes when every engine is a member of the swarm a listed manager manages, whichever it is', async () => {
    const swarms = world(A.host, B.host, C.host);
    const [a, b, c] = [...swarms.engines.values()];
    b!.enter('s1', true);
    a!.enter('s1', false);
    c!.enter('s1', false);
    assert.deepEqual(await ensureOneSwarm([A, B, C], swarms.swarmOf), { manager: 'b' });
  });

  it('engines in no swarm: the first is to init, the others to join it, the token read as the command runs', async () => {
    const swarms = world(A.host, B.host);
    assert.deepEqual(await refusal(ensureOneSwarm([A, B], swarms.swarmOf)), [
      '  engine a (tcp://10.0.0.2:2375) is in no swarm; make it the first manager: docker -H tcp://10.0.0.2:2375 swarm init --advertise-addr 10.0.0.2 >/dev/null',
      `  engine b (tcp://10.0.0.3:2375) is in no swarm; join it to a's: ${JOIN_B_TO_A} "$(docker -H tcp://10.0.0.2:2375 info --format '{{.Swarm.NodeAddr}}')":2377`,
      'or let kiab run them: `kiab engines join` with this kiab.yaml',
    ]);
  });

  it('names an engine that cannot be reached, one in no swarm, one in another swarm, locked, joining or failing; no join hint then', async () => {
    const swarms = world(A.host, B.host, C.host, 'tcp://10.0.0.5:2375', 'tcp://10.0.0.6:2375', 'tcp://10.0.0.7:2375');
    const [a, b, c, d, e, f] = [...swarms.engines.values()];
    a!.enter('s1', true);
    c!.enter('s2', true);
    d!.state = 'locked';
    e!.state = 'pending';
    f!.state = 'error';
    b!.hung = true;
    const engines = [
      A,
      B,
      C,
      ...['d', 'e', 'f'].map((name, at) => ({ name, host: `tcp://10.0.0.${5 + at}:2375` })),
      { name: 'g', host: 'tcp://10.0.0.9:2375' },
    ];
    const lines = await refusal(ensureOneSwarm(engines, swarms.swarmOf));
    assert.deepEqual(lines, [
      '  engine b (tcp://10.0.0.3:2375) did not answer within 5 s; check that it runs and answers: docker -H tcp://10.0.0.3:2375 info',
      `  engine c (tcp://10.0.0.4:2375) is in another swarm than a's; leave that one, then join: docker -H tcp://10.0.0.4:2375 swarm leave && docker -H tcp://10.0.0.4:2375 swarm join --token "$(docker -H tcp://10.0.0.2:2375 swarm join-token -q worker)" 10.0.0.2:2377`,
      '  engine d (tcp://10.0.0.5:2375) has its swarm locked; unlock it: docker -H tcp://10.0.0.5:2375 swarm unlock',
      "  engine e (tcp://10.0.0.6:2375) is still joining a swarm; wait, then check that it is active: docker -H tcp://10.0.0.6:2375 info --format '{{.Swarm.LocalNodeState}}'",
      '  engine f (tcp://10.0.0.7:2375) is in a swarm that fails (certificate expired); look at it: docker -H tcp://10.0.0.7:2375 info',
      '  engine g (tcp://10.0.0.9:2375) cannot be reached (ECONNREFUSED); check that it runs and answers: docker -H tcp://10.0.0.9:2375 info',
    ]);
  });

  it('workers of a swarm none of whose managers is listed: names them, and proposes no second swarm', async () => {
    const swarms = world(A.host, B.host);
    const [a] = [...swarms.engines.values()];
    a!.enter('s1', false);
    assert.deepEqual(await refusal(ensureOneSwarm([A, B], swarms.swarmOf)), [
      '  engine a (tcp://10.0.0.2:2375) is a worker of a swarm none of whose managers engines lists; list one, or take this engine out of that swarm: docker -H tcp://10.0.0.2:2375 swarm leave',
      '  engine b (tcp://10.0.0.3:2375) is in no swarm, and no engine listed manages the swarm the others are in; list one of its managers in engines: docker -H tcp://10.0.0.3:2375 info',
    ]);
  });

  it('names one engine listed twice under two addresses, and an engine whose context or TLS files are missing', async () => {
    const swarms = world(A.host, B.host);
    const [a, b] = [...swarms.engines.values()];
    a!.enter('s1', true);
    b!.enter('s1', false);
    swarms.engines.set('unix:///var/run/docker.sock', a!);
    const local = { name: 'local', host: 'unix:///var/run/docker.sock' };
    const missing = { name: 'gone', host: 'no-such-context' };
    const swarmOf = (engine: typeof A) => {
      if (engine.host === missing.host) throw new UsageError('docker context: "no-such-context" is engine gone\'s host, but it is not in ~/.docker/contexts');
      return swarms.swarmOf(engine);
    };
    assert.deepEqual(await refusal(ensureOneSwarm([A, B, local, missing], swarmOf)), [
      "  engine local (unix:///var/run/docker.sock) is the same engine as a (tcp://10.0.0.2:2375); list it once: docker -H unix:///var/run/docker.sock info --format '{{.ID}}'",
      '  engine gone (no-such-context) cannot be reached: docker context: "no-such-context" is engine gone\'s host, but it is not in ~/.docker/contexts; check that it runs and answers: docker --context no-such-context info',
    ]);
  });

  it('writes the docker CLI for each kind of host: a context, TLS with its folder, a socket, ssh', () => {
    assert.equal(dockerAt({ name: 'x', host: 'prod-1' }), 'docker --context prod-1');
    assert.equal(
      dockerAt({ name: 'x', host: 'tcp://h:2376', tlsCertPath: '/etc/my certs' }),
      "DOCKER_CERT_PATH='/etc/my certs' docker -H tcp://h:2376 --tlsverify",
    );
    assert.equal(initCommand({ name: 'x', host: 'unix:///run/docker.sock' }), 'docker -H unix:///run/docker.sock swarm init >/dev/null');
    assert.equal(initCommand({ name: 'x', host: 'ssh://me@10.1.2.3' }), 'docker -H ssh://me@10.1.2.3 swarm init --advertise-addr 10.1.2.3 >/dev/null');
    assert.equal(
      joinCommand({ name: 'x', host: 'ctx' }, { name: 'm', host: 'tcp://m:2376', tlsCertPath: '/c' }, '10.0.0.1:2377'),
      'docker --context ctx swarm join --token "$(DOCKER_CERT_PATH=/c docker -H tcp://m:2376 --tlsverify swarm join-token -q worker)" 10.0.0.1:2377',
    );
  });

  it("reads docker info's Swarm: a manager's own address from the managers it lists, a worker has none", () => {
    const manager = membershipOf({
      ID: 'E1',
      Swarm: {
        LocalNodeState: 'active',
        NodeID: 'n1',
        NodeAddr: '10.0.0.2',
        ControlAvailable: true,
        RemoteManagers: [
          { NodeID: 'n0', Addr: '10.0.0.9:2377' },
          { NodeID: 'n1', Addr: '10.0.0.2:4000' },
        ],
      },
    });
    assert.deepEqual(manager, { engineId: 'E1', state: 'active', nodeId: 'n1', manager: true, managerAddress: '10.0.0.2:4000', error: undefined });
    assert.equal(membershipOf({ ID: 'E2', Swarm: { LocalNodeState: 'active', NodeID: 'n2', ControlAvailable: false } }).managerAddress, undefined);
    assert.deepEqual(membershipOf({ ID: 'E3', Swarm: { LocalNodeState: 'inactive', NodeID: '', RemoteManagers: null } }), {
      engineId: 'E3',
      state: 'inactive',
      nodeId: undefined,
      manager: false,
      managerAddress: undefined,
      error: undefined,
    });
  });
});

describe('kiab engines join', () => {
  it('makes the first engine the manager of a new swarm and joins the others as workers; then the check passes', async () => {
    const swarms = world(A.host, B.host, C.host);
    const [a, b, c] = [...swarms.engines.values()];
    const outcomes = await joinEngines([A, B, C], swarms.swarmOf);
    assert.deepEqual(outcomes, [
      { engine: 'a', did: 'made manager' },
      { engine: 'b', did: 'joined' },
      { engine: 'c', did: 'joined' },
    ]);
    assert.deepEqual(a!.changes, ['init 10.0.0.2']);
    assert.deepEqual(b!.changes, ['join 10.0.0.2:2377 as 10.0.0.3']);
    assert.deepEqual(c!.changes, ['join 10.0.0.2:2377 as 10.0.0.4']);
    assert.equal(b!.swarm, a!.swarm);
    assert.doesNotMatch(JSON.stringify(outcomes), /SWMTKN/);
  });

  it('keeps the swarm a listed manager has, joins only those in none, and a second run changes nothing', async () => {
    const swarms = world(A.host, B.host, C.host);
    const [a, b, c] = [...swarms.engines.values()];
    b!.enter('s1', true);
    c!.enter('s1', false);
    assert.deepEqual(await joinEngines([A, B, C], swarms.swarmOf), [
      { engine: 'b', did: 'was a member' },
      { engine: 'a', did: 'joined' },
      { engine: 'c', did: 'was a member' },
    ]);
    assert.equal(a!.swarm, 's1');
    assert.deepEqual(
      (await joinEngines([A, B, C], swarms.swarmOf)).map((outcome) => outcome.did),
      ['was a member', 'was a member', 'was a member'],
    );
    assert.deepEqual(b!.changes, []);
    assert.deepEqual(c!.changes, []);
  });

  it('refuses, changing no engine, when one is in another swarm or does not answer: it never takes an engine out of a swarm', async () => {
    const swarms = world(A.host, B.host, C.host);
    const [a, b, c] = [...swarms.engines.values()];
    a!.enter('s1', true);
    b!.enter('s2', true);
    c!.hung = true;
    const lines = await refusal(joinEngines([A, B, C], swarms.swarmOf));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^ {2}engine b .* is in another swarm than a's; leave that one, then join: /);
    assert.match(lines[1]!, /^ {2}engine c .* did not answer within 5 s/);
    assert.deepEqual([a!.changes, b!.changes, c!.changes], [[], [], []]);
  });

  it('an engine that cannot start a swarm by itself: says so, with the command to start it at a chosen address, and joins none', async () => {
    const local = { name: 'local', host: 'unix:///var/run/docker.sock' };
    const swarms = world(B.host);
    const founder = swarms.add(local.host, '10.0.0.1');
    founder.initFailure = 'could not choose an IP address to advertise since this system has multiple addresses on different interfaces';
    await assert.rejects(joinEngines([local, B], swarms.swarmOf), (error: unknown) => {
      assert.ok(error instanceof KiabError);
      assert.equal(
        error.message,
        'engine local could not start a swarm: could not choose an IP address to advertise since this system has multiple addresses on different interfaces',
      );
      assert.match(error.hint ?? '', /`docker -H unix:\/\/\/var\/run\/docker\.sock swarm init --advertise-addr ADDRESS >\/dev\/null`/);
      return true;
    });
    assert.deepEqual(founder.changes, ['init (engine picks)']);
    assert.deepEqual(swarms.engines.get(B.host)!.changes, []);
  });

  it('says which engine could not join, never with the token', async () => {
    const swarms = world(A.host, B.host);
    const [, b] = [...swarms.engines.values()];
    b!.joinFailure = 'rpc error: token TOKEN rejected by 10.0.0.2:2377';
    await assert.rejects(joinEngines([A, B], swarms.swarmOf), (error: unknown) => {
      assert.ok(error instanceof KiabError);
      assert.match(error.message, /^engine b could not join a's swarm at 10\.0\.0\.2:2377: rpc error: token \*\*\* rejected/);
      assert.doesNotMatch(error.message, /SWMTKN/);
      return true;
    });
  });
});

describe('up with engines', () => {
  const spec = specOf('eng', {}, { engines: [A, B] });

  it('engines not in one swarm: the refusal names them, and no engine is asked for anything else', async () => {
    const provider = engine();
    const swarms = world(A.host, B.host);
    await assert.rejects(up({ provider, spec, reporter: quiet, swarmOf: swarms.swarmOf }), NotOneSwarmError);
    assert.deepEqual(provider.calls, []);
    assert.deepEqual(
      [...swarms.engines.values()].flatMap((one) => one.changes),
      [],
    );
  });

  it('engines in one swarm: refused as not supported yet, exit 2, with nothing made', async () => {
    const provider = engine();
    const swarms = world(A.host, B.host);
    await joinEngines([A, B], swarms.swarmOf);
    await assert.rejects(up({ provider, spec, reporter: quiet, swarmOf: swarms.swarmOf }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /^engines: the engines are one swarm, but a cluster over several engines is not supported yet, and kiab made nothing$/);
      return true;
    });
    assert.deepEqual(provider.calls, []);
  });
});
