import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placeMachines } from '../../src/cluster/engines/placement.js';
import { UsageError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/load.js';

function refusal(text: string): string {
  try {
    parseSpec({ file: 'kiab.yaml', fileText: text });
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.ok(!error.message.includes('\n'), 'the message is one line');
    return error.message;
  }
  assert.fail('the spec was accepted');
}

const TWO = 'engines:\n  - name: a\n    host: tcp://10.0.0.2:2376\n    tlsCertPath: /etc/kiab/a\n  - name: b\n    host: ssh://kiab@10.0.0.3\n';

describe('engines in kiab.yaml', () => {
  it('takes hosts as DOCKER_HOST is written or a docker context, with hand placement of nodes and the box', () => {
    const spec = parseSpec({
      fileText: `${TWO}  - name: c\n    host: unix:///run/user/1000/docker.sock\n  - name: d\n    host: my-context\nnodes:\n  - role: server\n    engine: c\nbox:\n  engine: b\n`,
    });
    assert.deepEqual(
      spec.engines?.map((engine) => engine.name),
      ['a', 'b', 'c', 'd'],
    );
    assert.equal(spec.engines?.[0]?.tlsCertPath, '/etc/kiab/a');
    assert.equal(spec.nodes[0]?.engine, 'c');
    assert.equal(spec.box?.engine, 'b');
  });

  it('leaves a spec without engines as it was: no engines, no box entry', () => {
    const spec = parseSpec({ fileText: 'name: dev\n' });
    assert.equal(spec.engines, undefined);
    assert.equal(spec.box, undefined);
  });

  it('refuses, in one line naming the field, an unknown engine, a name or host given twice, a bad host', () => {
    assert.match(refusal(`${TWO}nodes:\n  - role: worker\n    engine: c\n`), /^kiab\.yaml:9:13: nodes\.0\.engine: "c" is not an engine of engines \(a, b\)$/);
    assert.match(refusal(`${TWO}box:\n  engine: z\n`), /^kiab\.yaml:8:11: box\.engine: "z" is not an engine/);
    assert.match(refusal('nodes:\n  - role: worker\n    engine: a\n'), /nodes\.0\.engine: "a" is no engine: there is no engines list/);
    assert.match(
      refusal(`${TWO}  - name: a\n    host: tcp://10.0.0.9:2375\n`),
      /^kiab\.yaml:7:11: engines\.2\.name: "a" is given twice \(engines\.0 has it\)$/,
    );
    assert.match(refusal(`${TWO}  - name: c\n    host: ssh://kiab@10.0.0.3\n`), /engines\.2\.host: "ssh:\/\/kiab@10\.0\.0\.3" is given twice/);
    for (const host of ['http://10.0.0.2:2375', 'tcp://', 'unix://run/docker.sock', 'tcp://10.0.0.2:2375/v1', 'two words', 'default'])
      assert.match(refusal(`engines:\n  - name: a\n    host: "${host}"\n  - name: b\n    host: ctx\n`), /^kiab\.yaml:3:11: engines\.0\.host: /, host);
    assert.match(
      refusal('engines:\n  - name: a\n    host: ctx\n    tlsCertPath: /x\n  - name: b\n    host: ctx2\n'),
      /engines\.0\.tlsCertPath: is only for a tcp:\/\/ host/,
    );
    assert.match(refusal('engines:\n  - name: A_1\n    host: ctx\n  - name: b\n    host: ctx2\n'), /engines\.0\.name: must be a DNS-1123 label/);
    assert.match(refusal('engines:\n  - name: a\n    host: ctx\n'), /engines: must list at least two engines/);
  });
});

const slots = (servers: number, workers: number): Array<{ role: 'server' | 'worker'; index: number }> => [
  ...Array.from({ length: servers }, (_, index) => ({ role: 'server' as const, index })),
  ...Array.from({ length: workers }, (_, index) => ({ role: 'worker' as const, index })),
];
const engines = (...names: string[]): Array<{ name: string }> => names.map((name) => ({ name }));
const on = (placement: ReturnType<typeof placeMachines>): Record<string, string> => Object.fromEntries(placement.machines);

describe('placement of machines on engines', () => {
  it('spreads servers over the engines, so that losing a host loses as few control planes as can be', () => {
    const placement = placeMachines({ engines: engines('a', 'b', 'c'), nodes: [] }, slots(3, 0));
    assert.deepEqual(on(placement), { 'server-0': 'a', 'server-1': 'b', 'server-2': 'c' });
  });

  it('puts workers round-robin after the servers: 1 server and 3 workers over two engines are two and two', () => {
    assert.deepEqual(on(placeMachines({ engines: engines('a', 'b'), nodes: [] }, slots(1, 3))), {
      'server-0': 'a',
      'worker-0': 'b',
      'worker-1': 'a',
      'worker-2': 'b',
    });
  });

  it('lets a node placed by hand win, and places the others around it', () => {
    const nodes = parseSpec({ fileText: `${TWO}nodes:\n  - role: server\n    engine: b\n  - role: worker\n    engine: b\n` }).nodes;
    assert.deepEqual(on(placeMachines({ engines: engines('a', 'b'), nodes }, slots(2, 3))), {
      'server-0': 'b',
      'server-1': 'a',
      'worker-0': 'b',
      'worker-1': 'a',
      // A tie (two machines each) goes to the engine listed first.
      'worker-2': 'a',
    });
  });

  it('keeps the engine of every machine placed before when workers are added', () => {
    const before = on(placeMachines({ engines: engines('a', 'b', 'c'), nodes: [] }, slots(3, 4)));
    const after = on(placeMachines({ engines: engines('a', 'b', 'c'), nodes: [] }, slots(3, 9)));
    for (const [slot, engine] of Object.entries(before)) assert.equal(after[slot], engine, slot);
  });

  it('puts the box on the first engine, or on box.engine', () => {
    assert.equal(placeMachines({ engines: engines('a', 'b'), nodes: [] }, slots(1, 1)).box, 'a');
    assert.equal(placeMachines({ engines: engines('a', 'b'), nodes: [], box: { engine: 'b' } }, slots(1, 1)).box, 'b');
  });
});
