import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { KiabError } from '../errors.js';

/** $KIAB_CACHE_DIR, else the XDG cache directory: assets are kept across clusters and work offline. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KIAB_CACHE_DIR) return env.KIAB_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kiab');
}

export type Arch = 'amd64' | 'arm64';

export function hostArch(): Arch {
  return process.arch === 'arm64' ? 'arm64' : 'amd64';
}

export interface AssetKey {
  /** A distribution's set; `addons`: the addon images kiab installs where a distribution brings none of its own; `conformance`: upstream's conformance suite and its test images for one Kubernetes version. */
  distribution: 'kubeadm' | 'k3s' | 'addons' | 'conformance';
  version: string;
  arch: Arch;
}

export function assetDir(key: AssetKey, root = cacheRoot()): string {
  return join(root, 'assets', key.distribution, key.version, `linux-${key.arch}`);
}

export interface ManifestFile {
  sha256: string;
  size: number;
  /** When the hash was last checked against the file; a file whose size or mtime moved is hashed again. */
  mtimeMs: number;
}

/** What a cache directory holds, with a checksum per file: nothing unverified is ever used. */
export interface AssetManifest {
  distribution: AssetKey['distribution'];
  version: string;
  arch: Arch;
  /** `build` (compiled from the Go modules here) or `release` (downloaded, checked against published sums). */
  source: 'build' | 'release' | 'import';
  createdAt: string;
  /** Image references in each images/*.tar, by file name. */
  images: Record<string, string>;
  /** For images pulled from a registry: the content digest each reference was pulled by (`sha256:...`). */
  imageDigests?: Record<string, string>;
  files: Record<string, ManifestFile>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function describeFile(dir: string, path: string): Promise<[string, ManifestFile]> {
  const info = await stat(path);
  return [relative(dir, path), { sha256: await sha256File(path), size: info.size, mtimeMs: info.mtimeMs }];
}

/**
 * Checksums the set's files (the images' archives and `others`, relative to `dir`) into its manifest and writes
 * it: from here on nothing unverified is used. The set is made for the host's architecture, now.
 */
export async function recordAssetSet(
  dir: string,
  set: Pick<AssetManifest, 'distribution' | 'version' | 'source' | 'images'> & { imageDigests?: Record<string, string> },
  others: string[],
): Promise<{ dir: string; manifest: AssetManifest; reused: false }> {
  const files: AssetManifest['files'] = {};
  for (const name of [...others, ...Object.keys(set.images)]) {
    const [path, description] = await describeFile(dir, join(dir, name));
    files[path] = description;
  }
  const { imageDigests, ...identity } = set;
  const manifest: AssetManifest = {
    ...identity,
    arch: hostArch(),
    createdAt: new Date().toISOString(),
    ...(imageDigests && Object.keys(imageDigests).length ? { imageDigests } : {}),
    files,
  };
  await writeManifest(dir, manifest);
  return { dir, manifest, reused: false };
}

const MANIFEST = 'manifest.json';

export async function writeManifest(dir: string, manifest: AssetManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `${MANIFEST}.tmp`);
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, join(dir, MANIFEST));
}

export async function readManifest(dir: string): Promise<AssetManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as AssetManifest;
  } catch {
    return undefined;
  }
}

/**
 * Checks every file of a cache directory against its manifest. A file with the recorded size and mtime
 * was hashed before and is trusted; any other is hashed now, and a mismatch refuses the whole set.
 */
export async function verifyAssets(dir: string, manifest: AssetManifest): Promise<void> {
  let changed = false;
  for (const [name, expected] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new KiabError(`asset ${path} is missing`, { hint: 'rebuild or re-import the assets (`kiab assets build` / `kiab assets import`)' });
    if (info.size === expected.size && info.mtimeMs === expected.mtimeMs) continue;
    const actual = info.size === expected.size ? await sha256File(path) : 'size differs';
    if (actual !== expected.sha256) {
      throw new KiabError(
        `asset ${path} does not match its checksum (expected sha256 ${expected.sha256.slice(0, 16)}…, got ${actual === 'size differs' ? `${info.size} bytes instead of ${expected.size}` : `${actual.slice(0, 16)}…`}); refusing to use it`,
        {
          hint: 'delete it and rebuild or re-import the assets',
        },
      );
    }
    manifest.files[name] = { ...expected, mtimeMs: info.mtimeMs };
    changed = true;
  }
  if (changed) await writeManifest(dir, manifest);
}

/** The verified manifest of a cached asset set, or undefined when the cache lacks it. */
export async function verifiedAssets(key: AssetKey, root = cacheRoot()): Promise<{ dir: string; manifest: AssetManifest } | undefined> {
  return verifiedSetIn(assetDir(key, root));
}

/**
 * The set in a folder when it has a manifest and every file verifies, as a build or pull that finds it reuses
 * it; undefined when there is no manifest; a set that does not verify is an error, never used.
 */
export async function verifiedSetIn(dir: string): Promise<{ dir: string; manifest: AssetManifest; reused: true } | undefined> {
  const manifest = await readManifest(dir);
  if (!manifest) return undefined;
  await verifyAssets(dir, manifest);
  return { dir, manifest, reused: true };
}
