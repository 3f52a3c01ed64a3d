import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { ArchivePusher } from '../../src/registry/archive-push.js';
import { readEntry, tarEntries } from '../../src/registry/tar-entries.js';

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function writeTar(path: string, files: Array<[string, Buffer]>): Promise<void> {
  const archive = pack();
  const written = pipeline(archive, createWriteStream(path));
  for (const [name, content] of files) archive.entry({ name, size: content.length }, content);
  archive.finalize();
  await written;
}

/** An archive as `docker save` (Docker's own layout) writes one image: layers under IDs, named by diff ID in the configuration. */
async function savedImage(dir: string, name: string, layers: Buffer[], diffIds = layers.map(sha256)): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configName = `${sha256(config).slice(7)}.json`;
  const layerPaths = layers.map((_, index) => `${String(index).repeat(64)}/layer.tar`);
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [`${name}:1`], Layers: layerPaths }]));
  const path = join(dir, `${name}.tar`);
  await writeTar(path, [...layers.map((layer, index): [string, Buffer] => [layerPaths[index]!, layer]), [configName, config], ['manifest.json', manifest]]);
  return path;
}

const body = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** Distribution's v2 push API as far as a push uses it: blobs linked per repository, mounts, digests checked. */
function fakeRegistry() {
  const blobs = new Map<string, Buffer>();
  const linked = new Set<string>();
  const manifests = new Map<string, { layers: Array<{ digest: string; mediaType: string }> }>();
  const uploads: string[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://registry');
      const head = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
      const start = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname);
      const manifest = /^\/v2\/(.+)\/manifests\/([\w.-]+)$/.exec(url.pathname);
      if (request.method === 'HEAD' && head) return response.writeHead(linked.has(`${head[1]}@${head[2]}`) ? 200 : 404).end();
      if (request.method === 'POST' && start) {
        const mount = url.searchParams.get('mount');
        if (mount && blobs.has(mount) && linked.has(`${url.searchParams.get('from')}@${mount}`)) {
          linked.add(`${start[1]}@${mount}`);
          return response.writeHead(201).end();
        }
        return response.writeHead(202, { location: `/v2/${start[1]}/blobs/uploads/1?state=x` }).end();
      }
      if (request.method === 'PUT' && url.pathname.includes('/blobs/uploads/')) {
        const content = await body(request);
        const digest = url.searchParams.get('digest')!;
        if (sha256(content) !== digest)
          return response.writeHead(400).end(JSON.stringify({ errors: [{ message: 'provided digest did not match uploaded content' }] }));
        const repository = url.pathname.replace(/^\/v2\/(.+)\/blobs\/uploads\/1$/, '$1');
        blobs.set(digest, content);
        linked.add(`${repository}@${digest}`);
        uploads.push(digest);
        return response.writeHead(201).end();
      }
      if (request.method === 'PUT' && manifest) {
        const document = JSON.parse((await body(request)).toString()) as { layers: Array<{ digest: string; mediaType: string }>; config: { digest: string } };
        const missing = [...document.layers.map((layer) => layer.digest), document.config.digest].filter((digest) => !linked.has(`${manifest[1]}@${digest}`));
        if (missing.length) return response.writeHead(400).end(JSON.stringify({ errors: [{ message: `blob unknown: ${missing[0]}` }] }));
        manifests.set(`${manifest[1]}:${manifest[2]}`, document);
        return response.writeHead(201).end();
      }
      response.writeHead(405).end();
    })();
  });
  return { server, blobs, manifests, uploads };
}

describe('tar entries', () => {
  it('finds each file by its headers, long names included, and reads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-tar-'));
    const long = `${'a'.repeat(120)}/layer.tar`;
    const files: Array<[string, Buffer]> = [
      ['manifest.json', Buffer.from('[]')],
      [long, randomBytes(1500)],
      ['blobs/sha256/x', randomBytes(512)],
    ];
    await writeTar(join(dir, 'a.tar'), files);
    const entries = await tarEntries(join(dir, 'a.tar'));
    assert.deepEqual(
      [...entries.keys()],
      files.map(([name]) => name),
    );
    for (const [name, content] of files) assert.deepEqual(await readEntry(join(dir, 'a.tar'), entries.get(name)!), content);
  });
});

describe('pushing an archive of docker save to a registry', () => {
  const registry = fakeRegistry();
  let pusher: ArchivePusher;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiab-push-'));
    await new Promise<void>((resolve) => (registry.server as Server).listen(0, '127.0.0.1', resolve));
    pusher = new ArchivePusher({ base: `http://127.0.0.1:${(registry.server.address() as AddressInfo).port}` }, AbortSignal.timeout(30_000));
  });
  after(() => registry.server.close());

  const base = randomBytes(4096);
  it('sends each layer once under its diff ID, mounts a shared one into another repository, and stores a manifest naming them', async () => {
    const own = [randomBytes(700), randomBytes(513)];
    await pusher.push(await savedImage(dir, 'first', [base, own[0]!]), 'mirror/first', '1');
    await pusher.push(await savedImage(dir, 'second', [base, own[1]!]), 'mirror/second', '2');
    assert.deepEqual(
      registry.manifests.get('mirror/second:2')!.layers.map((layer) => [layer.digest, layer.mediaType]),
      [base, own[1]!].map((layer) => [sha256(layer), 'application/vnd.docker.image.rootfs.diff.tar']),
    );
    assert.equal(registry.uploads.filter((digest) => digest === sha256(base)).length, 1, 'the shared layer was sent once');
    assert.deepEqual(registry.blobs.get(sha256(own[1]!)), own[1]);
  });

  it('sends nothing the repository holds when the same image is pushed again', async () => {
    const before = registry.uploads.length;
    await pusher.push(join(dir, 'first.tar'), 'mirror/first', '1');
    assert.equal(registry.uploads.length, before);
  });

  it("fails naming the registry's reason when a layer is not what its configuration says", async () => {
    const layer = randomBytes(100);
    await assert.rejects(
      pusher.push(await savedImage(dir, 'lying', [layer], [sha256(randomBytes(1))]), 'mirror/lying', '1'),
      /HTTP 400 \(provided digest did not match/,
    );
  });
});
