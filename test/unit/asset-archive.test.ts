import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { importAssetArchive, isAssetArchive, writeAssetArchive } from '../../src/assets/archive.js';
import { assetDir, describeFile, readManifest, verifyAssets, writeManifest, type AssetManifest } from '../../src/assets/cache.js';
import { KiabError, UsageError } from '../../src/errors.js';

/** Every folder the tests make lives under one, removed when they end. */
const SCRATCH = await mkdtemp(join(tmpdir(), 'kiab-archive-'));
after(() => rm(SCRATCH, { recursive: true, force: true }));
const scratch = (): Promise<string> => mkdtemp(join(SCRATCH, 'case-'));

const KEY = { distribution: 'kubeadm', version: 'v1.34.4', arch: 'amd64' } as const;
const quiet = (): void => undefined;

/** A small cached set as `assets build` leaves one: two binaries, an image archive, a manifest. */
async function cachedSet(): Promise<{ root: string; dir: string; manifest: AssetManifest }> {
  const root = await scratch();
  const dir = assetDir(KEY, root);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'images'), { recursive: true });
  await writeFile(join(dir, 'bin', 'kubelet'), 'kubelet binary '.repeat(1000));
  await writeFile(join(dir, 'bin', 'kubeadm'), 'kubeadm binary');
  await chmod(join(dir, 'bin', 'kubelet'), 0o755);
  await chmod(join(dir, 'bin', 'kubeadm'), 0o755);
  await writeFile(join(dir, 'images', 'pause.tar'), 'an image archive');
  const files: AssetManifest['files'] = {};
  for (const name of ['bin/kubelet', 'bin/kubeadm', 'images/pause.tar']) {
    const [relative, description] = await describeFile(dir, join(dir, name));
    files[relative] = description;
  }
  const manifest: AssetManifest = {
    ...KEY,
    source: 'build',
    createdAt: '2026-11-26T00:00:00.000Z',
    images: { 'images/pause.tar': 'registry.k8s.io/pause:3.10.1' },
    imageDigests: { 'registry.k8s.io/pause:3.10.1': `sha256:${'0'.repeat(64)}` },
    files,
  };
  await writeManifest(dir, manifest);
  return { root, dir, manifest };
}

/** An archive made by hand, to say what a tampered or odd one holds: the index first unless told otherwise. */
async function handMade(entries: Array<{ name: string; content: string; type?: 'file' | 'symlink' }>, index?: unknown): Promise<string> {
  const file = join(await scratch(), 'set.tar');
  const archive = pack();
  const done = pipeline(archive as unknown as Readable, createWriteStream(file));
  if (index !== undefined) archive.entry({ name: 'kiab-assets.json' }, JSON.stringify(index));
  for (const entry of entries) {
    if (entry.type === 'symlink') archive.entry({ name: entry.name, type: 'symlink', linkname: entry.content });
    else archive.entry({ name: entry.name, mode: 0o644 }, entry.content);
  }
  archive.finalize();
  await done;
  return file;
}

function indexOf(files: Record<string, string>, extra: Record<string, unknown> = {}): unknown {
  const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
  return {
    format: 'kiab-assets/v1',
    ...KEY,
    source: 'build',
    createdAt: '2026-11-26T00:00:00.000Z',
    images: {},
    files: Object.fromEntries(Object.entries(files).map(([name, content]) => [name, { sha256: sha(content), size: Buffer.byteLength(content) }])),
    ...extra,
  };
}

/** Whatever an import left in a cache root: nothing at all, after a refusal. */
async function leftIn(root: string): Promise<string[]> {
  return readdir(join(root, 'assets'), { recursive: true }).catch(() => []);
}

describe('asset archives', () => {
  for (const suffix of ['.tar', '.tar.gz']) {
    it(`carries a set to another cache intact (${suffix}): same files, modes and images, verified, marked imported`, async () => {
      const { dir, manifest } = await cachedSet();
      const file = join(await scratch(), `set${suffix}`);
      const written = await writeAssetArchive(dir, manifest, file, quiet);
      assert.equal(
        written.sha256,
        createHash('sha256')
          .update(await readFile(file))
          .digest('hex'),
      );
      assert.equal(written.bytes, (await stat(file)).size);
      assert.ok(await isAssetArchive(file));

      const other = await scratch();
      const imported = await importAssetArchive(file, other, { onProgress: quiet, sha256: written.sha256 });
      assert.equal(imported.dir, assetDir(KEY, other));
      assert.equal(imported.manifest.source, 'import');
      assert.deepEqual(imported.manifest.images, manifest.images);
      assert.deepEqual(imported.manifest.imageDigests, manifest.imageDigests);
      for (const name of Object.keys(manifest.files)) {
        assert.deepEqual(await readFile(join(imported.dir, name)), await readFile(join(dir, name)));
        assert.equal((await stat(join(imported.dir, name))).mode & 0o777, name.startsWith('bin/') ? 0o755 : 0o644);
      }
      await verifyAssets(imported.dir, (await readManifest(imported.dir))!);
      assert.deepEqual(await leftIn(other).then((names) => names.filter((name) => name.startsWith('.'))), [], 'no staging folder left');
    });
  }

  it('makes the same archive from the same set', async () => {
    const { dir, manifest } = await cachedSet();
    const folder = await scratch();
    const first = await writeAssetArchive(dir, manifest, join(folder, 'a.tar.gz'), quiet);
    const second = await writeAssetArchive(dir, manifest, join(folder, 'b.tar.gz'), quiet);
    assert.equal(first.sha256, second.sha256);
  });

  it('replaces a set already in the cache whole', async () => {
    const { root, dir, manifest } = await cachedSet();
    const file = join(await scratch(), 'set.tar');
    await writeAssetArchive(dir, manifest, file, quiet);
    await writeFile(join(dir, 'stray'), 'left from before');
    await importAssetArchive(file, root, { onProgress: quiet });
    assert.deepEqual((await readdir(dir)).sort(), ['bin', 'images', 'manifest.json']);
  });

  it("removes what a killed import left, and leaves a running import's folder alone", async () => {
    const { root, dir, manifest } = await cachedSet();
    const file = join(await scratch(), 'set.tar');
    await writeAssetArchive(dir, manifest, file, quiet);
    // No process has a pid above the kernel's pid_max (at most 2^22).
    const abandoned = join(root, 'assets', '.import-99999999-abc123');
    const running = join(root, 'assets', `.import-${process.pid}-def456`);
    for (const folder of [abandoned, running]) {
      await mkdir(folder);
      await writeFile(join(folder, 'part'), 'x');
    }
    await importAssetArchive(file, root, { onProgress: quiet });
    assert.deepEqual((await readdir(join(root, 'assets'))).sort(), [`.import-${process.pid}-def456`, 'kubeadm']);
  });

  it('refuses to export a cache file that changed behind its manifest, and leaves no archive', async () => {
    const { dir, manifest } = await cachedSet();
    await writeFile(join(dir, 'images', 'pause.tar'), 'An image archive');
    const folder = await scratch();
    await assert.rejects(writeAssetArchive(dir, manifest, join(folder, 'set.tar'), quiet), /pause\.tar does not match its checksum/);
    assert.deepEqual(await readdir(folder), []);
  });

  it('takes only .tar and .tar.gz names', async () => {
    const { dir, manifest } = await cachedSet();
    await assert.rejects(
      writeAssetArchive(dir, manifest, join(dir, 'set.zip'), quiet),
      (error: unknown) => error instanceof UsageError && /^FILE: /.test(error.message),
    );
  });

  const refusals: Array<{ what: string; archive: () => Promise<string>; message: RegExp }> = [
    {
      what: 'an entry whose content does not match the index',
      archive: () => handMade([{ name: 'bin/kubeadm', content: 'tampered' }], indexOf({ 'bin/kubeadm': 'original' })),
      message: /entry bin\/kubeadm does not match its sha256 in the index.*nothing was imported/,
    },
    {
      what: 'an entry the index does not list',
      archive: () =>
        handMade(
          [
            { name: 'bin/kubeadm', content: 'x' },
            { name: 'bin/extra', content: 'y' },
          ],
          indexOf({ 'bin/kubeadm': 'x' }),
        ),
      message: /entry bin\/extra is not in the archive index/,
    },
    {
      what: 'an entry given twice',
      archive: () =>
        handMade(
          [
            { name: 'bin/kubeadm', content: 'x' },
            { name: 'bin/kubeadm', content: 'x' },
          ],
          indexOf({ 'bin/kubeadm': 'x' }),
        ),
      message: /entry bin\/kubeadm appears twice/,
    },
    {
      what: 'a missing entry',
      archive: () => handMade([{ name: 'bin/kubeadm', content: 'x' }], indexOf({ 'bin/kubeadm': 'x', 'bin/kubelet': 'y' })),
      message: /entry bin\/kubelet is missing from the archive/,
    },
    {
      what: 'a symlink in place of a file',
      archive: () => handMade([{ name: 'bin/kubeadm', content: '/etc/passwd', type: 'symlink' }], indexOf({ 'bin/kubeadm': 'x' })),
      message: /entry bin\/kubeadm is a symlink/,
    },
    {
      what: 'an index naming a path outside the set',
      archive: () => handMade([{ name: '../escape', content: 'x' }], indexOf({ '../escape': 'x' })),
      message: /not a valid asset index \(files\.\.\.\/escape/,
    },
    {
      what: 'a version that is a path',
      archive: () => handMade([], indexOf({}, { version: '../../etc' })),
      message: /not a valid asset index \(version:/,
    },
    {
      what: 'a tar that is no kiab archive',
      archive: () => handMade([{ name: 'k3s', content: 'x' }]),
      message: /is not a kiab asset archive \(its first entry is not kiab-assets\.json\)/,
    },
  ];
  for (const refusal of refusals) {
    it(`refuses ${refusal.what}, naming it, and leaves the cache as it was`, async () => {
      const root = await scratch();
      await assert.rejects(
        importAssetArchive(await refusal.archive(), root, { onProgress: quiet }),
        (error: unknown) => error instanceof KiabError && refusal.message.test(error.message),
      );
      assert.deepEqual(await leftIn(root), []);
    });
  }

  it('refuses an archive whose own sha256 is not the one given, and one that holds another version than asked', async () => {
    const { dir, manifest } = await cachedSet();
    const file = join(await scratch(), 'set.tar');
    await writeAssetArchive(dir, manifest, file, quiet);
    const root = await scratch();
    await assert.rejects(importAssetArchive(file, root, { onProgress: quiet, sha256: '0'.repeat(64) }), /does not match --sha256.*nothing was imported/);
    await assert.rejects(
      importAssetArchive(file, root, { onProgress: quiet, expect: { version: 'v1.35.0' } }),
      (error: unknown) => error instanceof UsageError && /^--k8s-version: .* holds kubeadm v1\.34\.4, not v1\.35\.0$/.test(error.message),
    );
    assert.deepEqual(await leftIn(root), []);
  });

  it('refuses a cut archive and a broken gzip stream, leaving the cache as it was', async () => {
    const { dir, manifest } = await cachedSet();
    const folder = await scratch();
    const whole = await readFile((await writeAssetArchive(dir, manifest, join(folder, 'set.tar'), quiet)).file);
    await writeFile(join(folder, 'cut.tar'), whole.subarray(0, 4096));
    const gzipped = await readFile((await writeAssetArchive(dir, manifest, join(folder, 'set.tar.gz'), quiet)).file);
    await writeFile(join(folder, 'broken.tar.gz'), Buffer.concat([gzipped.subarray(0, 200), Buffer.alloc(200, 0xaa)]));
    for (const name of ['cut.tar', 'broken.tar.gz']) {
      const root = await scratch();
      await assert.rejects(importAssetArchive(join(folder, name), root, { onProgress: quiet }), (error: unknown) => error instanceof KiabError, name);
      assert.deepEqual(await leftIn(root), [], name);
    }
    await writeFile(join(folder, 'garbage.tar.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    assert.equal(await isAssetArchive(join(folder, 'garbage.tar.gz')), false);
  });

  it('tells an archive from release files', async () => {
    const folder = await scratch();
    await writeFile(join(folder, 'k3s'), Buffer.alloc(4096, 7));
    assert.equal(await isAssetArchive(join(folder, 'k3s')), false);
    assert.equal(await isAssetArchive(await handMade([{ name: 'image.tar', content: 'x' }])), false);
    assert.equal(await isAssetArchive(join(folder, 'absent.tar')), false);
  });
});
