import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { complete, type CompletionSources } from '../../src/cli/complete.js';
import { buildProgram } from '../../src/cli/program.js';
import { quiet } from '../fakes/cluster.js';

/** The real command tree; completion never touches the engine itself, only the sources it is given. */
const program = buildProgram({
  provider: () => assert.fail('completion asked the engine directly'),
  reporter: () => quiet,
  signal: new AbortController().signal,
  endsOnInterrupt: () => undefined,
  stoppedBy: () => undefined,
});

/** Sources that answer from lists and record which cluster each question was about. */
function sources(asked: string[] = []): CompletionSources {
  return {
    clusters: async () => ['dev', 'demo', 'prod'],
    nodes: async (cluster) => {
      asked.push(`nodes:${cluster ?? '*'}`);
      return cluster === undefined ? ['kiab-dev-server-0', 'kiab-dev-worker-0', 'kiab-demo-server-0'] : ['server-0', 'worker-0'];
    },
    snapshots: async (cluster) => {
      asked.push(`snapshots:${cluster ?? '*'}`);
      return ['clean', 'before-upgrade'];
    },
  };
}

async function words(typed: string[], from = sources()): Promise<string[]> {
  const completion = await complete(program, typed, from);
  assert.equal(completion.files, false, `expected words for ${typed.join(' ')}`);
  return completion.files ? [] : completion.words;
}

describe('shell completion', () => {
  it('offers every visible command at the start, and the ones a prefix matches', async () => {
    const all = await words(['']);
    for (const command of ['up', 'delete', 'status', 'node', 'doctor', 'completion', 'assets']) assert.ok(all.includes(command), command);
    assert.ok(!all.includes('__complete'), 'the hidden command stays hidden');
    assert.deepEqual(await words(['d']), ['delete', 'doctor']);
  });

  it('offers subcommands, then their options, with --verbose but not --version', async () => {
    assert.deepEqual(await words(['node', '']), ['add', 'start', 'stop', 'rm', 'help']);
    const options = await words(['node', 'add', '--']);
    for (const option of ['--cluster', '--role', '--output', '--help', '--verbose']) assert.ok(options.includes(option), option);
    assert.ok(!options.includes('--version'));
  });

  it('offers cluster names where a cluster is named: arguments and --cluster, filtered by the prefix', async () => {
    assert.deepEqual(await words(['status', '']), ['dev', 'demo', 'prod']);
    assert.deepEqual(await words(['delete', 'dev', 'de']), ['dev', 'demo'], 'a list of names goes on');
    assert.deepEqual(await words(['node', 'add', '--cluster', 'p']), ['prod']);
    assert.deepEqual(await words(['up', '--workers', '2', '']), ['dev', 'demo', 'prod'], 'an option value is skipped');
    assert.deepEqual(await words(['status', 'dev', '']), [], 'status takes one name');
  });

  it('offers full node names, or short ones of the cluster given with --cluster', async () => {
    const asked: string[] = [];
    assert.deepEqual(await words(['exec', 'kiab-de'], sources(asked)), ['kiab-dev-server-0', 'kiab-dev-worker-0', 'kiab-demo-server-0']);
    assert.deepEqual(await words(['node', 'stop', '--cluster', 'dev', 'w'], sources(asked)), ['worker-0']);
    assert.deepEqual(await words(['node', 'rm', '--cluster=demo', ''], sources(asked)), ['server-0', 'worker-0']);
    assert.deepEqual(asked, ['nodes:*', 'nodes:dev', 'nodes:demo']);
  });

  it('offers the snapshots of the cluster named before them', async () => {
    const asked: string[] = [];
    assert.deepEqual(await words(['snapshot', 'restore', 'dev', 'c'], sources(asked)), ['clean']);
    assert.deepEqual(asked, ['snapshots:dev']);
  });

  it('offers the choices of an option, and nothing for a free value', async () => {
    assert.deepEqual(await words(['up', '--k8s', '']), ['kubeadm', 'k3s', 'none']);
    assert.deepEqual(await words(['doctor', '-o', 'j']), ['json']);
    assert.deepEqual(await words(['completion', '']), ['bash', 'zsh', 'fish']);
    assert.deepEqual(await words(['up', '--wait', '']), []);
  });

  it('leaves files to the shell where a file is asked for', async () => {
    assert.deepEqual(await complete(program, ['up', '--config', ''], sources()), { files: true });
    assert.deepEqual(await complete(program, ['assets', 'import', 'k3s', ''], sources()), { files: true });
    assert.deepEqual(await complete(program, ['image', 'load', '--archive', 'x'], sources()), { files: true });
  });

  it('offers nothing after `--`, where the words are a command for the machine', async () => {
    assert.deepEqual(await words(['exec', 'kiab-dev-server-0', '--', 'sys']), []);
  });
});
