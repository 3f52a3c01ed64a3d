import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { defaultKubeconfigPath, mergeKubeconfig, removeKubeconfigEntries } from '../../src/kubeconfig/index.js';

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
  it('follows KUBECONFIG, first entry', () => {
    assert.equal(defaultKubeconfigPath({ KUBECONFIG: '/a/one:/b/two' }), '/a/one');
    assert.match(defaultKubeconfigPath({}), /\.kube\/config$/);
  });

  it('merges without disturbing other entries, writes 0600, and removes exactly what it added', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'kiab-kc-')), 'config');
    await writeFile(path, other, { mode: 0o644 });
    await mergeKubeconfig(path, entry('kiab-dev'), { switchContext: false });
    let document = parse(await readFile(path, 'utf8'));
    assert.deepEqual(document.contexts.map((context: { name: string }) => context.name), ['prod', 'kiab-dev']);
    assert.equal(document['current-context'], 'prod');
    assert.deepEqual(document.preferences, {});
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    await mergeKubeconfig(path, entry('kiab-dev'), { switchContext: true });
    document = parse(await readFile(path, 'utf8'));
    assert.equal(document.clusters.length, 2, 'merging twice does not duplicate');
    assert.equal(document['current-context'], 'kiab-dev');

    assert.equal(await removeKubeconfigEntries(path, { cluster: 'kiab-dev', user: 'kiab-dev', context: 'kiab-dev' }), true);
    document = parse(await readFile(path, 'utf8'));
    assert.deepEqual(document.clusters.map((cluster: { name: string }) => cluster.name), ['prod']);
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
  const present = await statFile(kubectl).then(() => true, () => false);

  it('sees merged entries next to the others, then only the others after removal', { skip: present ? false : `no kubectl at ${kubectl} (built by \`kiab assets build\`)` }, async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'kiab-kc-')), 'config');
    await writeFile(path, other, { mode: 0o600 });
    await mergeKubeconfig(path, entry('kiab-dev'), { switchContext: true });
    const view = (): Promise<{ contexts: Array<{ name: string }>; 'current-context': string }> =>
      new Promise((resolve, reject) => execFile(kubectl, ['config', 'view', '--kubeconfig', path, '-o', 'json'], (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout)))));
    let seen = await view();
    assert.deepEqual(seen.contexts.map((context) => context.name).sort(), ['kiab-dev', 'prod']);
    assert.equal(seen['current-context'], 'kiab-dev');
    await removeKubeconfigEntries(path, { cluster: 'kiab-dev', user: 'kiab-dev', context: 'kiab-dev' });
    seen = await view();
    assert.deepEqual(seen.contexts.map((context) => context.name), ['prod']);
  });
});
