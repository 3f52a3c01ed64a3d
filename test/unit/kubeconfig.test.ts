import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import {
  defaultKubeconfigPath,
  mergeKubeconfig,
  mergeUserKubeconfig,
  removeKubeconfigEntries,
  removeUserKubeconfigEntries,
} from '../../src/kubeconfig/index.js';

const other = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: https://prod.example:6443}
users:
- name: prod
  user: {token: abc}
contexts:
- name: prod
  context: {cluster: prod, user: prod}
current-context: prod
preferences: {}
`;

const entry = (name: string) => ({
  clusters: [{ name, cluster: { server: 'https://127.0.0.1:1234' } }],
  users: [{ name, user: { token: 'x' } }],
  contexts: [{ name, context: { cluster: name, user: name } }],
  'current-context': name,
});

describe('kubeconfig', () => {
  it('picks the file kubectl would: the only one, else the first that exists, else the last listed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-kc-'));
    const [one, two, three] = ['one', 'two', 'three'].map((name) => join(dir, name)) as [string, string, string];
    assert.equal(await defaultKubeconfigPath({ KUBECONFIG: one }), one);
    assert.equal(await defaultKubeconfigPath({ KUBECONFIG: [one, two, three].join(':') }), three);
    await writeFile(two, other);
    assert.equal(await defaultKubeconfigPath({ KUBECONFIG: [one, two, three].join(':') }), two);
    assert.match(await defaultKubeconfigPath({}), /\.kube\/config$/);
  });

  it('with several files, updates an entry where it is and removes it from every file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-kc-'));
    const [first, second] = [join(dir, 'first'), join(dir, 'second')];
    await writeFile(first, other);
    await writeFile(second, stringify({ apiVersion: 'v1', kind: 'Config', ...entry('kiab-dev'), 'current-context': 'kiab-dev' }));
    const env = { KUBECONFIG: `${first}:${second}` };
    assert.equal(await mergeUserKubeconfig(entry('kiab-dev'), { switchContext: false }, env), second);
    assert.equal(await mergeUserKubeconfig(entry('kiab-new'), { switchContext: false }, env), first);
    assert.deepEqual(
      parse(await readFile(first, 'utf8')).contexts.map((context: { name: string }) => context.name),
      ['prod', 'kiab-new'],
    );
    assert.equal(await removeUserKubeconfigEntries({ cluster: 'kiab-dev', user: 'kiab-dev', context: 'kiab-dev' }, env), true);
    assert.deepEqual(parse(await readFile(second, 'utf8')).contexts, []);
  });

  it('writes through a symlinked kubeconfig, which stays a symlink', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-kc-'));
    const real = join(dir, 'dotfiles-kubeconfig');
    const link = join(dir, 'config');
    await writeFile(real, other);
    await symlink(real, link);
    await mergeKubeconfig(link, entry('kiab-dev'), { switchContext: true });
    assert.ok((await lstat(link)).isSymbolicLink(), 'the link was replaced by a file');
    assert.equal(parse(await readFile(real, 'utf8'))['current-context'], 'kiab-dev');
    assert.equal((await stat(real)).mode & 0o777, 0o600);
  });

  it('loses no entry when many writers merge at once, and leaves no temp or lock file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-kc-'));
    const path = join(dir, 'config');
    await writeFile(path, other);
    const names = Array.from({ length: 12 }, (_, index) => `kiab-c${index}`);
    await Promise.all(names.map((name) => mergeKubeconfig(path, entry(name), { switchContext: false })));
    const contexts = parse(await readFile(path, 'utf8')).contexts.map((context: { name: string }) => context.name);
    assert.deepEqual([...contexts].sort(), ['prod', ...names].sort());
    assert.deepEqual(await readdir(dir), ['config']);
  });

  it('merges without disturbing other entries, writes 0600, and removes exactly what it added', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'kiab-kc-')), 'config');
    await writeFile(path, other, { mode: 0o644 });
    await mergeKubeconfig(path, entry('kiab-dev'), { switchContext: false });
    let document = parse(await readFile(path, 'utf8'));
    assert.deepEqual(
      document.contexts.map((context: { name: string }) => context.name),
      ['prod', 'kiab-dev'],
    );
    assert.equal(document['current-context'], 'prod');
    assert.deepEqual(document.preferences, {});
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    await mergeKubeconfig(path, entry('kiab-dev'), { switchContext: true });
    document = parse(await readFile(path, 'utf8'));
    assert.equal(document.clusters.length, 2, 'merging twice does not duplicate');
    assert.equal(document['current-context'], 'kiab-dev');

    assert.equal(await removeKubeconfigEntries(path, { cluster: 'kiab-dev', user: 'kiab-dev', context: 'kiab-dev' }), true);
    document = parse(await readFile(path, 'utf8'));
    assert.deepEqual(
      document.clusters.map((cluster: { name: string }) => cluster.name),
      ['prod'],
    );
    assert.equal(document.users[0].user.token, 'abc');
    assert.equal(await removeKubeconfigEntries(path, { cluster: 'kiab-dev', user: 'kiab-dev', context: 'kiab-dev' }), false);
  });
});

describe('kubeconfig read back by the real kubectl', async () => {
  const { assetDir, hostArch } = await import('../../src/assets/cache.js');
  const { DEFAULT_KUBEADM_VERSION } = await import('../../src/distribution/kubeadm/assets.js');
  const { stat: statFile } = await import('node:fs/promises');
  const { execFile } = await import('node:child_process');
  const kubectl = join(assetDir({ distribution: 'kubeadm', version: DEFAULT_KUBEADM_VERSION, arch: hostArch() }), 'bin', 'kubectl');
  const present = await statFile(kubectl).then(
    () => true,
    () => false,
  );

  it(
    'sees merged entries next to the others, then only the others after removal',
    { skip: present ? false : `no kubectl at ${kubectl} (built by \`kiab assets build\`)` },
    async () => {
      const path = join(await mkdtemp(join(tmpdir(), 'kiab-kc-')), 'config');
      await writeFile(path, other, { mode: 0o600 });
      await mergeKubeconfig(path, entry('kiab-dev'), { switchContext: true });
      const view = (): Promise<{ contexts: Array<{ name: string }>; 'current-context': string }> =>
        new Promise((resolve, reject) =>
          execFile(kubectl, ['config', 'view', '--kubeconfig', path, '-o', 'json'], (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout)))),
        );
      let seen = await view();
      assert.deepEqual(seen.contexts.map((context) => context.name).sort(), ['kiab-dev', 'prod']);
      assert.equal(seen['current-context'], 'kiab-dev');
      await removeKubeconfigEntries(path, { cluster: 'kiab-dev', user: 'kiab-dev', context: 'kiab-dev' });
      seen = await view();
      assert.deepEqual(
        seen.contexts.map((context) => context.name),
        ['prod'],
      );
    },
  );
});
