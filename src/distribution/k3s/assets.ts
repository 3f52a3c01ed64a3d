import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { KiabError, UsageError } from '../../errors.js';
import { assetDir, describeFile, readManifest, sha256File, verifyAssets, writeManifest, type Arch, type AssetManifest } from '../../assets/cache.js';
import { download } from '../../assets/download.js';
import { withAssetSetLock } from '../../assets/lock.js';
import { classifyK3sFile, k3sAssetNames, k3sAssetUrl, parseSums } from './release.js';

export interface K3sAssets {
  dir: string;
  manifest: AssetManifest;
  binary: string;
  images: string;
}

function located(dir: string, manifest: AssetManifest, arch: Arch): K3sAssets {
  const names = k3sAssetNames(arch);
  return { dir, manifest, binary: join(dir, names.binary), images: join(dir, names.images) };
}

/** The verified k3s assets of a version and architecture, or undefined when the cache lacks them. */
export async function cachedK3sAssets(version: string, arch: Arch): Promise<K3sAssets | undefined> {
  const dir = assetDir({ distribution: 'k3s', version, arch });
  const manifest = await readManifest(dir);
  if (!manifest) return undefined;
  await verifyAssets(dir, manifest);
  return located(dir, manifest, arch);
}

async function record(dir: string, version: string, arch: Arch, source: AssetManifest['source']): Promise<AssetManifest> {
  const names = k3sAssetNames(arch);
  const files: AssetManifest['files'] = {};
  for (const name of [names.binary, names.sums, names.images]) {
    const [relative, description] = await describeFile(dir, join(dir, name));
    files[relative] = description;
  }
  const manifest: AssetManifest = {
    distribution: 'k3s',
    version,
    arch,
    source,
    createdAt: new Date().toISOString(),
    images: { [names.images]: 'k3s air-gap images' },
    files,
  };
  await writeManifest(dir, manifest);
  return manifest;
}

/**
 * Downloads the k3s binary, its sums file and the air-gap images for one architecture, checking each file
 * against the published sums before it enters the cache. Interrupted downloads resume.
 */
export async function pullK3sAssets(version: string, arch: Arch, onProgress: (detail: string) => void, signal?: AbortSignal): Promise<K3sAssets> {
  const existing = await cachedK3sAssets(version, arch);
  if (existing) return existing;
  const dir = assetDir({ distribution: 'k3s', version, arch });
  return withAssetSetLock(dir, () => downloadK3sAssets(dir, version, arch, onProgress, signal), {
    ...(signal ? { signal } : {}),
    onWait: (holder) => onProgress(`waiting for ${holder}, which is writing this set`),
  });
}

/** The download itself, under the set's lock: a set another process finished meanwhile is taken as it is. */
async function downloadK3sAssets(dir: string, version: string, arch: Arch, onProgress: (detail: string) => void, signal?: AbortSignal): Promise<K3sAssets> {
  const finished = await cachedK3sAssets(version, arch);
  if (finished) return finished;
  const names = k3sAssetNames(arch);
  await download(k3sAssetUrl(version, names.sums), join(dir, names.sums), signal ? { signal } : {});
  const sums = parseSums(await readFile(join(dir, names.sums), 'utf8'));
  for (const name of [names.binary, names.images]) {
    const sha256 = sums.get(name);
    if (!sha256) throw new KiabError(`${names.sums} of k3s ${version} lists no checksum for ${name}`);
    await download(k3sAssetUrl(version, name), join(dir, name), {
      sha256,
      onProgress: ({ received, total }) => onProgress(`${name} ${(received / 2 ** 20).toFixed(1)}${total ? `/${(total / 2 ** 20).toFixed(1)}` : ''} MiB`),
      ...(signal ? { signal } : {}),
    });
  }
  return located(dir, await record(dir, version, arch, 'release'), arch);
}

/**
 * `kiab assets import`: takes release files from disk (an air-gapped copy), checks each against the sums file
 * given with them (or already cached), and refuses anything that does not match, naming the file.
 */
export async function importK3sAssets(version: string, paths: string[]): Promise<K3sAssets[]> {
  const byArch = new Map<Arch, Map<'binary' | 'sums' | 'images', string>>();
  for (const path of paths) {
    const kind = classifyK3sFile(basename(path));
    if (!kind)
      throw new UsageError(
        `FILE: ${path} is neither a kiab asset archive nor a k3s release file (k3s, k3s-arm64, sha256sum-ARCH.txt, k3s-airgap-images-ARCH.tar.zst)`,
      );
    const files = byArch.get(kind.arch) ?? new Map();
    files.set(kind.kind, path);
    byArch.set(kind.arch, files);
  }
  const imported: K3sAssets[] = [];
  for (const [arch, files] of byArch) {
    const dir = assetDir({ distribution: 'k3s', version, arch });
    const names = k3sAssetNames(arch);
    const sumsPath = files.get('sums') ?? join(dir, names.sums);
    const sumsText = await readFile(sumsPath, 'utf8').catch(() => {
      throw new UsageError(`FILE: give ${names.sums} with the other ${arch} files, so they can be checked`);
    });
    const sums = parseSums(sumsText);
    for (const [kind, path] of files) {
      if (kind === 'sums') continue;
      const expected = sums.get(kind === 'binary' ? names.binary : names.images);
      const actual = await sha256File(path);
      if (!expected || actual !== expected) {
        throw new KiabError(
          `${path} does not match ${names.sums} (expected ${expected?.slice(0, 16) ?? 'no entry'}…, got ${actual.slice(0, 16)}…); refusing to import it`,
        );
      }
    }
    await mkdir(dir, { recursive: true });
    imported.push(await withAssetSetLock(dir, () => placeK3sFiles(dir, version, arch, files)));
  }
  return imported;
}

/** Copies checked release files into their set and records it, under the set's lock. */
async function placeK3sFiles(dir: string, version: string, arch: Arch, files: Map<'binary' | 'sums' | 'images', string>): Promise<K3sAssets> {
  const names = k3sAssetNames(arch);
  for (const [kind, path] of files) await copyFile(path, join(dir, kind === 'binary' ? names.binary : kind === 'sums' ? names.sums : names.images));
  const missing = [names.binary, names.images].filter((name) => ![...files.values()].some((path) => basename(path) === name));
  const cachedBefore = await readManifest(dir);
  if (missing.some((name) => !cachedBefore?.files[name])) {
    // Keep what was checked; the set becomes usable once the rest is imported too.
    const have = await Promise.all(
      [names.binary, names.images].map((name) =>
        readFile(join(dir, name)).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (!have.every(Boolean)) {
      await rm(join(dir, 'manifest.json'), { force: true });
      throw new KiabError(
        `imported, but the k3s ${version} ${arch} set is still missing ${[names.binary, names.images].filter((_, index) => !have[index]).join(' and ')}`,
        { hint: 'import the missing files too' },
      );
    }
  }
  return located(dir, await record(dir, version, arch, 'import'), arch);
}
