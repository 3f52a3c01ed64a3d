// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADDON_SET_VERSION } from '../../src/addons/index.js';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { assertInterrupts, eventually, kiab, run, startKiab, type StatusJson, tempDir } from './helpers.js';
import { kubeadmSkip as skip } from './kubeadm-cache.js';

const CLUSTER = 'fb-airgap';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where an entry's content starts in a plain tar, from GNU tar's own block listing (-R). */
async function entryOffset(archive: string, name: string): Promise<number> {
  const listed = await run('tar', ['-tR', '-f', archive]);
  const block = new RegExp(`^block (\\d+): ${name.replace(/[.]/g, '\\.')}$`, 'm').exec(listed.stdout)?.[1];
  assert.ok(block, `tar lists ${name}: ${listed.stdout}`);
  return (Number(block) + 1) * 512;
}

/** Flips one byte in place (no copy of a 600 MB file) and returns a function that flips it back. */
async function flipByte(path: string, offset: number): Promise<() => Promise<void>> {
  const handle = await open(path, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, offset);
  await handle.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, offset);
  await handle.close();
  return async () => {
    const again = await open(path, 'r+');
    await again.write(byte, 0, 1, offset);
    await again.close();
  };
}

if (skip) it('air-gapped kubeadm assets (export, import)', { skip }, () => undefined);
else
  describe('air-gapped kubeadm assets: export on one machine, import on another', () => {
    let folder: string;
    let archive: string;
    let sha256: string;
    let emptyCache: NodeJS.ProcessEnv;

    before(async () => {
      folder = await tempDir('kiab-airgap-');
      archive = join(folder, `kubeadm-${DEFAULT_KUBEADM_VERSION}.tar`);
      // The machine without network: an empty cache of its own, and its own kubeconfig.
      emptyCache = { ...process.env, KIAB_CACHE_DIR: join(folder, 'cache'), KUBECONFIG: join(folder, 'kubeconfig') };
      await kiab(['delete', CLUSTER], { env: emptyCache });
    });
    after(async () => {
      await kiab(['delete', CLUSTER], { env: emptyCache });
      await rm(folder, { recursive: true, force: true });
    });

    it('export writes one archive of the cached set and prints its sha256', async () => {
      const exported = await kiab(['assets', 'export', '--k8s', 'kubeadm', '--k8s-version', DEFAULT_KUBEADM_VERSION, archive, '-o', 'json']);
      assert.equal(exported.code, 0, exported.stderr);
      const result = JSON.parse(exported.stdout) as { file: string; sha256: string; distribution: string; version: string };
      assert.equal(result.file, archive);
      assert.equal(result.distribution, 'kubeadm');
      assert.equal(result.version, DEFAULT_KUBEADM_VERSION);
      sha256 = result.sha256;
      assert.equal(await sha256Of(archive), sha256);
      assert.deepEqual(await readdir(folder), [`kubeadm-${DEFAULT_KUBEADM_VERSION}.tar`], 'no .part left beside it');
    });

    it('import refuses a tampered archive in one line naming the entry, and caches nothing', async () => {
      const restore = await flipByte(archive, (await entryOffset(archive, 'images/etcd.tar')) + 1000);
      try {
        const imported = await kiab(['assets', 'import', archive], { env: emptyCache });
        assert.equal(imported.code, 1, imported.stderr);
        const message = imported.stderr.trim().split('\n').pop()!;
        assert.match(message, /^kiab: .*: entry images\/etcd\.tar does not match its sha256 in the index .*nothing was imported$/);
        const listed = await kiab(['assets', 'list', '-o', 'json'], { env: emptyCache });
        assert.deepEqual(JSON.parse(listed.stdout), []);
        assert.deepEqual(await readdir(join(folder, 'cache', 'assets')), [], 'no staging folder left');
      } finally {
        await restore();
      }
    });

    it('import refuses an archive that does not have the sha256 it was given, or holds another version than asked', async () => {
      const wrongSum = await kiab(['assets', 'import', '--sha256', '0'.repeat(64), archive], { env: emptyCache });
      assert.equal(wrongSum.code, 1);
      assert.match(wrongSum.stderr, /does not match --sha256 .*nothing was imported/);
      const wrongVersion = await kiab(['assets', 'import', '--k8s-version', 'v1.35.0', archive], { env: emptyCache });
      assert.equal(wrongVersion.code, 2);
      assert.match(
        wrongVersion.stderr,
        new RegExp(`^kiab: --k8s-version: .* holds kubeadm ${DEFAULT_KUBEADM_VERSION.replace(/\./g, '\\.')}, not v1\\.35\\.0$`, 'm'),
      );
      assert.deepEqual(JSON.parse((await kiab(['assets', 'list', '-o', 'json'], { env: emptyCache })).stdout), []);
    });

    it('Ctrl-C during an import stops it at once and leaves the cache as it was', async () => {
      const assets = join(folder, 'cache', 'assets');
      const running = startKiab(['assets', 'import', archive], emptyCache);
      // Pressed once entries are being written beside the cache (a loaded 2-core host once took over 30 s to get there).
      await eventually(
        async () =>
          assert.ok(
            (await readdir(assets).catch(() => [])).some((name) => name.startsWith('.import-')),
            `no staging folder yet; kiab printed: ${running.stderr()}`,
          ),
        90_000,
        20,
      );
      await assertInterrupts(running);
      assert.deepEqual(await readdir(assets), []);
    });

    it('export refuses a file name it cannot write as an archive, and a set that is not cached', async () => {
      const zip = await kiab(['assets', 'export', join(folder, 'set.zip')]);
      assert.equal(zip.code, 2);
      assert.match(zip.stderr, /^kiab: FILE: .* must end in \.tar or \.tar\.gz/);
      const absent = await kiab(['assets', 'export', '--k8s-version', 'v1.30.9', join(folder, 'absent.tar')]);
      assert.equal(absent.code, 1);
      assert.match(absent.stderr, /no verified kubeadm v1\.30\.9 amd64 assets/);
    });

    it('imports the intact archive, and the addon set exported beside it, into an empty cache; up brings a Ready kubeadm cluster from them', async () => {
      const imported = await kiab(['assets', 'import', '--sha256', sha256, archive], { env: emptyCache });
      assert.equal(imported.code, 0, imported.stderr);
      // The default cluster runs kiab's addons too: their set travels in an archive of its own.
      const addonArchive = join(folder, 'addons.tar');
      const exported = await kiab(['assets', 'export', '--addons', addonArchive]);
      assert.equal(exported.code, 0, exported.stderr);
      const addons = await kiab(['assets', 'import', addonArchive], { env: emptyCache });
      assert.equal(addons.code, 0, addons.stderr);
      const listed = JSON.parse((await kiab(['assets', 'list', '-o', 'json'], { env: emptyCache })).stdout) as Array<{
        distribution: string;
        version: string;
        source: string;
        verified: boolean;
      }>;
      assert.deepEqual(
        listed.map((row) => [row.distribution, row.version, row.source, row.verified]),
        [
          ['addons', ADDON_SET_VERSION, 'import', true],
          ['kubeadm', DEFAULT_KUBEADM_VERSION, 'import', true],
        ],
      );
      const up = await kiab(['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '0', '--no-snapshot', '-o', 'json'], { env: emptyCache });
      assert.equal(up.code, 0, up.stderr);
      const status = JSON.parse(up.stdout) as StatusJson & { nodes: Array<{ kubernetes?: { ready: boolean; kubeletVersion: string } | null }> };
      assert.equal(status.distribution, 'kubeadm');
      for (const node of status.nodes)
        assert.deepEqual(node.kubernetes && [node.kubernetes.ready, node.kubernetes.kubeletVersion], [true, DEFAULT_KUBEADM_VERSION]);
    });
  });
