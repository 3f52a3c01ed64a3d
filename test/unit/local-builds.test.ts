import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { extract, pack } from 'tar-stream';
import { localBuildName, writeRenamedArchive } from '../../src/assets/local-builds.js';

/** A `docker save` archive as the engine writes one: manifest.json, repositories and a layer. */
function savedArchive(ref: string): Readable {
  const archive = pack();
  const [repository, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  archive.entry({ name: 'abc/layer.tar' }, 'layer bytes');
  archive.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'abc.json', RepoTags: [ref], Layers: ['abc/layer.tar'] }]));
  archive.entry({ name: 'repositories' }, JSON.stringify({ [repository]: { [tag]: 'abc' } }));
  archive.finalize();
  return archive as unknown as Readable;
}

async function entries(path: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      found[header.name] = Buffer.concat(chunks).toString('utf8');
      next();
    });
  });
  await pipeline(createReadStream(path), reader);
  return found;
}

describe("kiab's own builds of upstream images", () => {
  it('carry kiab names on the engine, never upstream ones', () => {
    assert.equal(localBuildName('registry.k8s.io/kube-apiserver:v1.37.2'), 'kiab/build/registry.k8s.io/kube-apiserver:v1.37.2');
    assert.equal(localBuildName('docker.io/library/traefik:v3.6.12'), 'kiab/build/docker.io/library/traefik:v3.6.12');
    assert.equal(localBuildName('registry.k8s.io/e2e-test-images/agnhost:2.56'), 'kiab/build/registry.k8s.io/e2e-test-images/agnhost:2.56');
    assert.equal(localBuildName('kiab/e2e-tools:0123abcd'), 'kiab/e2e-tools:0123abcd');
  });

  it('are archived under the upstream name the machines import, every layer unchanged', async () => {
    const local = localBuildName('registry.k8s.io/kube-apiserver:v1.37.2');
    const path = join(await mkdtemp(join(tmpdir(), 'kiab-local-build-')), 'image.tar');
    await writeRenamedArchive(savedArchive(local), local, 'registry.k8s.io/kube-apiserver:v1.37.2', path);
    const written = await entries(path);
    assert.deepEqual(JSON.parse(written['manifest.json']!), [
      { Config: 'abc.json', RepoTags: ['registry.k8s.io/kube-apiserver:v1.37.2'], Layers: ['abc/layer.tar'] },
    ]);
    assert.deepEqual(JSON.parse(written.repositories!), { 'registry.k8s.io/kube-apiserver': { 'v1.37.2': 'abc' } });
    assert.equal(written['abc/layer.tar'], 'layer bytes');
  });
});
