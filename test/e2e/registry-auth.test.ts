// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, hostPort, httpGet, kiab, makeBusyboxImage, run, tempDir, type StatusJson } from './helpers.js';
import { kubeadmSkip, kubectlWith } from './kubeadm-cache.js';

const CLUSTER = 'pt-regauth';

describe('registry.auth: the registry asks for a login, and the machines pull with it', { skip: kubeadmSkip }, () => {
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let stderr: string;
  let registry: number;
  let password: string;

  before(async () => {
    dir = await tempDir('regauth-');
    // docker's and kubectl's files of this test only: the user's own are left alone.
    env = { ...process.env, DOCKER_CONFIG: join(dir, 'docker'), KUBECONFIG: join(dir, 'kubeconfig') };
    await kiab(['delete', CLUSTER], { env });
    await writeFile(join(dir, 'kiab.yaml'), `name: ${CLUSTER}\nregistry:\n  auth: true\n`);
    const made = await kiab(['up', '-c', join(dir, 'kiab.yaml'), '--k8s', 'kubeadm', '--workers', '0', '--no-addons', '--no-snapshot', '--wait', '8m'], {
      env,
    });
    assert.equal(made.code, 0, made.stderr);
    stderr = made.stderr;
    const status = JSON.parse((await kiab(['status', CLUSTER, '-o', 'json'], { env })).stdout) as StatusJson;
    registry = hostPort(status, 'registry');
  });

  after(async () => {
    await kiab(['delete', CLUSTER], { env });
  });

  it('up shows the password once and writes it where docker login keeps it (0600)', async () => {
    const shown = /registry login: user kiab, password (\S+) \(shown once; saved for docker in (\S+)\)/.exec(stderr);
    assert.ok(shown, stderr);
    password = shown[1]!;
    assert.equal(shown[2], join(dir, 'docker', 'config.json'));
    assert.equal((await stat(shown[2]!)).mode & 0o777, 0o600);
    const config = JSON.parse(await readFile(shown[2]!, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(config.auths[`localhost:${registry}`]!.auth, 'base64').toString(), `kiab:${password}`);
    const again = await kiab(['up', CLUSTER], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /password/);
  });

  it('without the login a push and a pull are refused; with it both work', async () => {
    const image = `localhost:${registry}/regauth:1`;
    await makeBusyboxImage(image);
    const anonymous = await run('docker', ['push', image], { env: { ...env, DOCKER_CONFIG: join(dir, 'no-login') } });
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /no basic auth credentials|unauthorized/i);
    const pushed = await run('docker', ['push', image], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((await httpGet(`http://127.0.0.1:${registry}/v2/regauth/manifests/1`, {}, 5000)).status, 401);
    const login = `Basic ${Buffer.from(`kiab:${password}`).toString('base64')}`;
    assert.equal((await httpGet(`http://127.0.0.1:${registry}/v2/regauth/manifests/1`, { authorization: login }, 5000)).status, 200);
  });

  it('a pod pulls the pushed image through its machine, and the password is in no engine metadata', async () => {
    const kubectl = (...args: string[]): Promise<string> => kubectlWith(join(dir, 'kubeconfig'), args);
    await kubectl('run', 'regauth', `--image=localhost:${registry}/regauth:1`, '--restart=Never', '--', 'sleep', '3600');
    await kubectl('wait', '--for=condition=Ready', 'pod/regauth', '--timeout=180s');
    const containers = (await docker(['ps', '-a', '--filter', `label=dev.kiab.cluster=${CLUSTER}`, '--format', '{{.Names}}'])).split('\n');
    const metadata = await docker(['inspect', ...containers]);
    const networks = await docker(['network', 'inspect', `kiab-${CLUSTER}`]);
    const encoded = Buffer.from(`kiab:${password}`).toString('base64');
    for (const secret of [password, encoded]) assert.ok(!metadata.includes(secret) && !networks.includes(secret), 'the login is in the engine metadata');
  });
});
