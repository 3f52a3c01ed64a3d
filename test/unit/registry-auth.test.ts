import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { registryCredentialsOf } from '../../src/cluster/lifecycle/registry-auth.js';
import { observeCluster } from '../../src/cluster/lifecycle/observe.js';
import { k3sRegistries } from '../../src/distribution/k3s/config.js';
import { clusterNames } from '../../src/names.js';
import { saveDockerLogin } from '../../src/registry/docker-login.js';
import { REGISTRY_HTPASSWD_PATH, REGISTRY_PASSWORD_PATH, containerdMirrorFiles, registryConfig, registryEndpoints } from '../../src/registry/index.js';
import { engine, isolateFolders, specOf, upCluster } from '../fakes/cluster.js';

before(isolateFolders);

const credentials = { username: 'kiab', password: 's3cret' };
const endpoints = registryEndpoints('kiab-dev-box', 40000);

describe('registry login files', () => {
  it('the registry checks an htpasswd only when asked to', () => {
    assert.equal((parse(registryConfig()) as { auth?: unknown }).auth, undefined);
    assert.deepEqual((parse(registryConfig({ htpasswd: '/x/htpasswd' })) as { auth?: unknown }).auth, {
      htpasswd: { realm: 'kiab registry', path: '/x/htpasswd' },
    });
  });

  it("machines' containerd sends the login to the box from 0600 files; k3s gets it as its registry auth", () => {
    const files = containerdMirrorFiles(endpoints, credentials);
    assert.equal(files.length, 2);
    for (const file of files) {
      assert.equal(file.mode, 0o600);
      assert.match(file.content, /\[host\."http:\/\/kiab-dev-box:5000"\.header\]\n {2}Authorization = "Basic a2lhYjpzM2NyZXQ="\n/);
    }
    assert.ok(containerdMirrorFiles(endpoints).every((file) => file.mode === undefined && !file.content.includes('Authorization')));
    assert.deepEqual((parse(k3sRegistries(endpoints, credentials)) as { configs: unknown }).configs, {
      'kiab-dev-box:5000': { auth: { username: 'kiab', password: 's3cret' } },
    });
  });

  it("docker's config gets an auths entry per name, keeps every other setting, and is 0600", async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'kiab-docker-')), 'config.json');
    await writeFile(path, JSON.stringify({ auths: { 'other:5000': { auth: 'eA==' } }, credsStore: 'pass' }));
    await saveDockerLogin(['localhost:40000', '192.168.1.240:5000'], credentials, path);
    const config = JSON.parse(await readFile(path, 'utf8')) as { auths: Record<string, { auth: string }>; credsStore: string };
    assert.equal(config.credsStore, 'pass');
    assert.deepEqual(Object.keys(config.auths).sort(), ['192.168.1.240:5000', 'localhost:40000', 'other:5000']);
    assert.equal(Buffer.from(config.auths['localhost:40000']!.auth, 'base64').toString(), 'kiab:s3cret');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });
});

describe('up with registry.auth', () => {
  it('the box gets a bcrypt htpasswd and the password on its volume, machines the login, and no label or variable holds it', async () => {
    process.env.DOCKER_CONFIG = await mkdtemp(join(tmpdir(), 'kiab-docker-'));
    const provider = engine();
    await upCluster(provider, 'dev', { workers: 1 }, { registry: { auth: true } });
    const box = provider.containers.get('kiab-dev-box')!;
    const password = box.files.get(REGISTRY_PASSWORD_PATH)!.trim();
    assert.ok(password.length >= 20);
    const [user, hash] = box.files.get(REGISTRY_HTPASSWD_PATH)!.trim().split(':') as [string, string];
    assert.equal(user, 'kiab');
    assert.ok(bcrypt.compareSync(password, hash));
    assert.match(box.files.get('/etc/kiab/registry.yml')!, /htpasswd/);
    const worker = provider.containers.get('kiab-dev-worker-0')!;
    const hosts = [...worker.files].find(([path]) => path.endsWith('hosts.toml'))![1];
    assert.ok(hosts.includes(Buffer.from(`kiab:${password}`).toString('base64')));
    for (const container of provider.containers.values()) {
      const metadata = JSON.stringify({ labels: container.info.labels, env: container.spec.env ?? {} });
      assert.ok(!metadata.includes(password));
    }
    for (const network of provider.networks.values()) assert.ok(!JSON.stringify(network.labels).includes(password));
    const docker = JSON.parse(await readFile(join(process.env.DOCKER_CONFIG, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    assert.ok(Object.keys(docker.auths).some((name) => name.startsWith('localhost:')));

    // The next command reads the login the box keeps; it makes no new one.
    const again = await registryCredentialsOf(
      provider,
      specOf('dev', {}, { registry: { auth: true } }),
      clusterNames('dev'),
      await observeCluster(provider, 'dev'),
    );
    assert.deepEqual(again, { credentials: { username: 'kiab', password }, made: false });
  });
});
