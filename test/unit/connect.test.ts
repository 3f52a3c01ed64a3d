import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { resolveEndpoint } from '../../src/provider/docker/connect.js';

async function certDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-certs-'));
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(dir, name), `${name} of test`);
  return dir;
}

/** A docker config folder whose current context (or DOCKER_CONTEXT) is `name`, as `docker context create` leaves it. */
async function dockerConfig(name: string, endpoint: { Host: string; SkipTLSVerify?: boolean }, withTls: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-docker-config-'));
  const id = createHash('sha256').update(name).digest('hex');
  await mkdir(join(dir, 'contexts', 'meta', id), { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ currentContext: name }));
  await writeFile(join(dir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: endpoint } }));
  if (withTls) {
    await mkdir(join(dir, 'contexts', 'tls', id, 'docker'), { recursive: true });
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(dir, 'contexts', 'tls', id, 'docker', file), `context ${file}`);
  }
  return dir;
}

const usage = (pattern: RegExp) => (error: unknown) => error instanceof UsageError && pattern.test(error.message);

describe('engine endpoint', () => {
  it('takes a unix socket from DOCKER_HOST, counted against root', () => {
    const endpoint = resolveEndpoint({ DOCKER_HOST: 'unix:///run/user/x/docker.sock', DOCKER_CONFIG: '/nonexistent' });
    assert.deepEqual([endpoint.options.socketPath, endpoint.localUid], ['/run/user/x/docker.sock', 0]);
  });

  it('speaks plain HTTP to tcp:// without DOCKER_TLS_VERIFY, and is remote', () => {
    const endpoint = resolveEndpoint({ DOCKER_HOST: 'tcp://10.1.2.3:2375' });
    assert.deepEqual([endpoint.options.protocol, endpoint.options.host, endpoint.options.port, endpoint.localUid], ['http', '10.1.2.3', 2375, undefined]);
  });

  it('speaks TLS with the client certificate of DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set', async () => {
    const dir = await certDir();
    const endpoint = resolveEndpoint({ DOCKER_HOST: 'tcp://engine.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    assert.equal(endpoint.options.protocol, 'https');
    assert.deepEqual([endpoint.options.ca, endpoint.options.cert, endpoint.options.key].map(String), ['ca.pem of test', 'cert.pem of test', 'key.pem of test']);
  });

  it('refuses TLS whose files are missing, naming the path', () => {
    assert.throws(
      () => resolveEndpoint({ DOCKER_HOST: 'tcp://engine.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }),
      usage(/^DOCKER_HOST: TLS is on but \/nonexistent\/ca\.pem cannot be read$/),
    );
  });

  it('goes over SSH for ssh:// with the user and port given', () => {
    const endpoint = resolveEndpoint({ DOCKER_HOST: 'ssh://dev@builder.example:2222', SSH_AUTH_SOCK: '/tmp/agent' });
    assert.deepEqual(
      [endpoint.options.protocol, endpoint.options.host, endpoint.options.port, endpoint.options.username],
      ['ssh', 'builder.example', 2222, 'dev'],
    );
    assert.deepEqual(endpoint.options.sshOptions, { agent: '/tmp/agent' });
  });

  it('refuses an address it cannot speak to', () => {
    assert.throws(
      () => resolveEndpoint({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' }),
      usage(/^DOCKER_HOST: .* is not a unix:\/\/, tcp:\/\/ or ssh:\/\/ address$/),
    );
  });

  it('follows the current docker context, with its TLS files', async () => {
    const config = await dockerConfig('remote', { Host: 'tcp://10.9.8.7:2376' }, true);
    const endpoint = resolveEndpoint({ DOCKER_CONFIG: config });
    assert.deepEqual([endpoint.options.protocol, endpoint.options.host, String(endpoint.options.ca)], ['https', '10.9.8.7', 'context ca.pem']);
  });

  it('lets DOCKER_CONTEXT=default and DOCKER_HOST win over the current context', async () => {
    const config = await dockerConfig('remote', { Host: 'tcp://10.9.8.7:2376' }, false);
    assert.match(resolveEndpoint({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'default' }).description, /^unix:\/\//);
    assert.equal(resolveEndpoint({ DOCKER_CONFIG: config, DOCKER_HOST: 'unix:///x.sock' }).options.socketPath, '/x.sock');
  });

  it('refuses a context that skips TLS verification, or that does not exist', async () => {
    const insecure = await dockerConfig('lax', { Host: 'tcp://10.9.8.7:2376', SkipTLSVerify: true }, false);
    assert.throws(() => resolveEndpoint({ DOCKER_CONFIG: insecure }), usage(/skips TLS verification/));
    assert.throws(() => resolveEndpoint({ DOCKER_CONFIG: insecure, DOCKER_CONTEXT: 'ghost' }), usage(/"ghost" is the current context, but it is not in/));
  });
});
