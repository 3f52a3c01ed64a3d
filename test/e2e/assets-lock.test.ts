import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kiab, tempDir } from './helpers.js';

const VERSION = 'v1.3.1+k3s1';
const IMAGES = 'k3s-airgap-images-amd64.tar.zst';

/** A k3s release as the pull expects it; only the sums are checked, so the files are stand-ins. */
function releaseFiles(): Record<string, Buffer> {
  const binary = Buffer.from('#!/bin/sh\nexit 1\n');
  const images = Buffer.alloc(2 << 20, 9);
  const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
  return { k3s: binary, [IMAGES]: images, 'sha256sum-amd64.txt': Buffer.from(`${sha(binary)}  k3s\n${sha(images)}  ${IMAGES}\n`) };
}

/** Sends a file 64 KiB every 100 ms, so that two pulls overlap for seconds. */
async function dripFeed(response: ServerResponse, body: Buffer): Promise<void> {
  for (let offset = 0; offset < body.length && !response.destroyed; offset += 64 << 10) {
    response.write(body.subarray(offset, offset + (64 << 10)));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  response.end();
}

/** A release mirror on loopback that answers ranges as a real one does: 416 for one that starts at the end. */
async function mirror(files: Record<string, Buffer>): Promise<{ server: Server; url: string; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((request, response) => {
    const [, version, name] = decodeURIComponent(request.url ?? '').split('/');
    const body = version === VERSION ? files[name ?? ''] : undefined;
    if (!body) return void response.writeHead(404).end();
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    asked.push(`${name}${range ? `:${range[1]}` : ''}`);
    if (range) {
      const start = Number(range[1]);
      if (start >= body.length) return void response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      response.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
      return void dripFeed(response, body.subarray(start));
    }
    response.writeHead(200, { 'content-length': body.length });
    void dripFeed(response, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, asked };
}

describe('asset sets under a lock', () => {
  const files = releaseFiles();
  let release: Awaited<ReturnType<typeof mirror>>;
  before(async () => {
    release = await mirror(files);
  });
  after(() => {
    release.server.close();
  });
  const pull = (cache: string): ReturnType<typeof kiab> =>
    kiab(['assets', 'pull', '--k8s', 'k3s', '--k8s-version', VERSION, '--arch', 'amd64'], {
      env: { ...process.env, KIAB_K3S_RELEASE_URL: release.url, KIAB_CACHE_DIR: cache },
    });
  const setDir = (cache: string): string => join(cache, 'assets', 'k3s', VERSION, 'linux-amd64');

  it('two pulls of one set at once: both succeed, one set, every file matches its sum', async () => {
    const cache = await tempDir('kiab-cache-');
    const [first, second] = await Promise.all([pull(cache), pull(cache)]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    const listed = JSON.parse((await kiab(['assets', 'list', '-o', 'json'], { env: { ...process.env, KIAB_CACHE_DIR: cache } })).stdout) as Array<{
      distribution: string;
      version: string;
      verified: boolean;
    }>;
    assert.deepEqual(
      listed.map((set) => [set.distribution, set.version, set.verified]),
      [['k3s', VERSION, true]],
    );
    assert.ok((await readFile(join(setDir(cache), IMAGES))).equals(files[IMAGES]!));
  });

  it('a .part complete but never checked (killed while hashing) is kept: the 416 of its resume is not an error', async () => {
    const cache = await tempDir('kiab-cache-');
    await mkdir(setDir(cache), { recursive: true });
    await writeFile(join(setDir(cache), `${IMAGES}.part`), files[IMAGES]!);
    const pulled = await pull(cache);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(release.asked.includes(`${IMAGES}:${files[IMAGES]!.length}`), `asked: ${release.asked.join(',')}`);
    assert.ok((await readFile(join(setDir(cache), IMAGES))).equals(files[IMAGES]!));
  });

  it('a .part as long as the file but wrong is discarded and downloaded again', async () => {
    const cache = await tempDir('kiab-cache-');
    await mkdir(setDir(cache), { recursive: true });
    await writeFile(join(setDir(cache), `${IMAGES}.part`), Buffer.alloc(files[IMAGES]!.length, 1));
    const pulled = await pull(cache);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok((await readFile(join(setDir(cache), IMAGES))).equals(files[IMAGES]!));
  });
});
