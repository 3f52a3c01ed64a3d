import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { kiab, run, tempDir } from './helpers.js';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl as a docker TLS setup has them. */
async function makeCertificates(dir: string, name: string): Promise<void> {
  const openssl = async (...args: string[]): Promise<void> => {
    const result = await run('openssl', args);
    assert.equal(result.code, 0, result.stderr);
  };
  const at = (file: string): string => join(dir, file);
  await writeFile(at('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await writeFile(at('client.ext'), 'extendedKeyUsage=clientAuth\n');
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca-key.pem'), '-out', at('ca.pem'), '-days', '1', '-subj', `/CN=${name}-ca`);
  for (const [role, key, cert] of [
    ['server', 'server-key.pem', 'server-cert.pem'],
    ['client', 'key.pem', 'cert.pem'],
  ] as const) {
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(key), '-out', at(`${role}.csr`), '-subj', `/CN=${name}-${role}`);
    await openssl(
      'x509',
      '-req',
      '-in',
      at(`${role}.csr`),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca-key.pem'),
      '-CAcreateserial',
      '-out',
      at(cert),
      '-days',
      '1',
      '-extfile',
      at(`${role}.ext`),
    );
  }
}

/**
 * The engine behind TLS with client certificates, as `dockerd --tlsverify` serves it: a TLS listener on
 * loopback that admits only clients signed by its CA and relays them to the engine's socket.
 */
async function tlsEngine(dir: string): Promise<{ server: Server; port: number; sessions: () => number }> {
  let sessions = 0;
  const server = createServer(
    {
      key: await readFile(join(dir, 'server-key.pem')),
      cert: await readFile(join(dir, 'server-cert.pem')),
      ca: await readFile(join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      sessions += 1;
      const engine = connect('/var/run/docker.sock');
      socket.pipe(engine).pipe(socket);
      const close = (): void => void (socket.destroy(), engine.destroy());
      socket.once('error', close);
      engine.once('error', close);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sessions: () => sessions };
}

describe('engine endpoints the way the docker CLI finds them', () => {
  let certs: string;
  let stranger: string;
  let engine: Awaited<ReturnType<typeof tlsEngine>>;

  before(async () => {
    certs = await tempDir('kiab-tls-');
    stranger = await tempDir('kiab-tls-other-');
    await makeCertificates(certs, 'engine');
    await makeCertificates(stranger, 'stranger');
    engine = await tlsEngine(certs);
  });
  after(() => engine.server.close());

  it('DOCKER_HOST=tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH reaches the engine over TLS', async () => {
    const before = engine.sessions();
    const env = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${engine.port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs };
    const listed = await kiab(['list', '-o', 'json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(Array.isArray(JSON.parse(listed.stdout)));
    assert.ok(engine.sessions() > before, 'the request went through the TLS endpoint');
  });

  it('a client certificate the engine does not trust is refused in one line naming the endpoint', async () => {
    const env = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${engine.port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: stranger };
    const refused = await kiab(['list'], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr.trim(), new RegExp(`^kiab: cannot reach the Docker engine at tcp://127\\.0\\.0\\.1:${engine.port} \\(`));
  });

  it('the current docker context is followed, with the TLS files it keeps', async () => {
    const config = await tempDir('kiab-docker-config-');
    const id = createHash('sha256').update('tls-engine').digest('hex');
    await mkdir(join(config, 'contexts', 'meta', id), { recursive: true });
    await mkdir(join(config, 'contexts', 'tls', id, 'docker'), { recursive: true });
    await writeFile(join(config, 'config.json'), JSON.stringify({ currentContext: 'tls-engine' }));
    await writeFile(
      join(config, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({ Name: 'tls-engine', Endpoints: { docker: { Host: `tcp://127.0.0.1:${engine.port}` } } }),
    );
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) await copyFile(join(certs, file), join(config, 'contexts', 'tls', id, 'docker', file));
    const before = engine.sessions();
    const { DOCKER_HOST: _ignored, ...withoutHost } = process.env;
    const listed = await kiab(['list', '-o', 'json'], { env: { ...withoutHost, DOCKER_CONFIG: config } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(engine.sessions() > before, "the request went through the context's endpoint");
  });
});
