import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeFile, recordAssetSet, verifiedSetIn, verifyAssets, type AssetManifest } from '../../src/assets/cache.js';
import { KiabError } from '../../src/errors.js';

async function fixture(): Promise<{ dir: string; manifest: AssetManifest }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-assets-'));
  await writeFile(join(dir, 'k3s'), 'a binary, as far as this test cares\n');
  const [name, file] = await describeFile(dir, join(dir, 'k3s'));
  return {
    dir,
    manifest: { distribution: 'k3s', version: 'v1.0.0+k3s1', arch: 'amd64', source: 'import', createdAt: '', images: {}, files: { [name]: file } },
  };
}

describe('asset verification', () => {
  it('accepts untouched files', async () => {
    const { dir, manifest } = await fixture();
    await verifyAssets(dir, manifest);
  });

  it('refuses a truncated file, naming its path', async () => {
    const { dir, manifest } = await fixture();
    await truncate(join(dir, 'k3s'), 5);
    await assert.rejects(
      verifyAssets(dir, manifest),
      (error: unknown) => error instanceof KiabError && error.message.includes(join(dir, 'k3s')) && /checksum/.test(error.message),
    );
  });

  it('refuses a file changed in place with its size kept', async () => {
    const { dir, manifest } = await fixture();
    await writeFile(join(dir, 'k3s'), 'A binary, as far as this test cares\n');
    await assert.rejects(verifyAssets(dir, manifest), /does not match its checksum/);
  });

  it('re-hashes a file whose mtime moved and accepts it when the content is the same', async () => {
    const { dir, manifest } = await fixture();
    await utimes(join(dir, 'k3s'), new Date(), new Date(Date.now() + 5000));
    await verifyAssets(dir, manifest);
  });

  it('refuses a missing file', async () => {
    const { dir, manifest } = await fixture();
    manifest.files['k3s-airgap-images-amd64.tar.zst'] = { sha256: '0'.repeat(64), size: 1, mtimeMs: 0 };
    await assert.rejects(verifyAssets(dir, manifest), /is missing/);
  });
});

describe('recording an asset set', () => {
  it('checksums the image archives and the other files into a manifest that verifies, and records digests only when there are some', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-record-'));
    await mkdir(join(dir, 'bin'));
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'bin', 'tool'), 'a binary');
    await writeFile(join(dir, 'images', 'app.tar'), 'an image archive');
    const images = { 'images/app.tar': 'registry.example/app:1' };

    const pulled = await recordAssetSet(
      dir,
      { distribution: 'conformance', version: 'v1.34.4', source: 'release', images, imageDigests: { 'registry.example/app:1': 'sha256:ab' } },
      ['bin/tool'],
    );
    assert.deepEqual(Object.keys(pulled.manifest.files).sort(), ['bin/tool', 'images/app.tar']);
    assert.equal(pulled.manifest.files['bin/tool']!.sha256, createHash('sha256').update('a binary').digest('hex'));
    assert.deepEqual(pulled.manifest.imageDigests, { 'registry.example/app:1': 'sha256:ab' });
    assert.deepEqual(await verifiedSetIn(dir), { dir, manifest: pulled.manifest, reused: true });

    const built = await recordAssetSet(dir, { distribution: 'conformance', version: 'v1.34.4', source: 'build', images, imageDigests: {} }, ['bin/tool']);
    assert.equal('imageDigests' in built.manifest, false);
    await writeFile(join(dir, 'bin', 'tool'), 'another binary');
    await assert.rejects(verifiedSetIn(dir), /bin\/tool does not match its checksum/);
  });
});
