import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { parseImageRef, resolveDigest } from '../../src/assets/image-digest.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  const cases = [
    { ref: 'registry.k8s.io/kube-apiserver:v1.34.4', name: { registry: 'registry.k8s.io', repository: 'kube-apiserver', tag: 'v1.34.4' } },
    { ref: 'registry.k8s.io/coredns/coredns:v1.12.1', name: { registry: 'registry.k8s.io', repository: 'coredns/coredns', tag: 'v1.12.1' } },
    { ref: 'localhost:5000/etcd:3.6.5-0', name: { registry: 'localhost:5000', repository: 'etcd', tag: '3.6.5-0' } },
  ];
  for (const { ref, name } of cases) it(`reads ${ref}`, () => assert.deepEqual(parseImageRef(ref), name));

  for (const ref of ['kube-apiserver:v1', 'registry.k8s.io/pause', 'registry.k8s.io/pause@sha256:00', 'registry.k8s.io/../x:1 y'])
    it(`refuses ${ref}`, () => assert.throws(() => parseImageRef(ref), /cannot pin image/));
});

describe('resolving a tag to its digest', () => {
  /** A registry on loopback that wants an anonymous bearer token, as registry.k8s.io and Docker Hub do. */
  let base: string;
  const tokenRequests: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      tokenRequests.push(url.search);
      return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'anonymous' }));
    }
    if (request.headers.authorization !== 'Bearer anonymous') {
      return void response
        .writeHead(401, { 'www-authenticate': `Bearer realm="${base}/token",service="test-registry",scope="repository:${url.pathname.split('/')[2]}:pull"` })
        .end();
    }
    if (!String(request.headers.accept).includes('application/vnd.oci.image.index.v1+json')) return void response.writeHead(406).end();
    if (url.pathname === '/v2/pause/manifests/3.10.1') return void response.writeHead(200, { 'docker-content-digest': DIGEST }).end();
    if (url.pathname === '/v2/undigested/manifests/1') return void response.writeHead(200).end();
    response.writeHead(404).end();
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());
  const registry = () => base.replace('http://', '');

  it('asks for an anonymous token when challenged, then gives the content digest', async () => {
    assert.equal(await resolveDigest({ registry: registry(), repository: 'pause', tag: '3.10.1' }), DIGEST);
    assert.deepEqual(tokenRequests, ['?service=test-registry&scope=repository%3Apause%3Apull']);
  });

  it('refuses a registry that names no digest: nothing is pulled unpinned', async () => {
    await assert.rejects(resolveDigest({ registry: registry(), repository: 'undigested', tag: '1' }), /without a sha256 content digest/);
  });

  it('says which tag it could not find', async () => {
    await assert.rejects(resolveDigest({ registry: registry(), repository: 'pause', tag: '9.9' }), /manifests\/9\.9: HTTP 404/);
  });

  it('names the registry it could not reach', async () => {
    await assert.rejects(
      resolveDigest({ registry: '127.0.0.1:1', repository: 'pause', tag: '3.10.1' }),
      /cannot resolve http:\/\/127\.0\.0\.1:1\/.*\(ECONNREFUSED\)/,
    );
  });
});
