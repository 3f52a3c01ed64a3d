import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildAddonAssets, pullAddonAssets } from '../addons/assets.js';
import { ADDON_SET_VERSION } from '../addons/index.js';
import { compressionOf, importAssetArchive, isAssetArchive, isCacheSegment, writeAssetArchive, type ArchiveFile } from '../assets/archive.js';
import { assetDir, cacheRoot, hostArch, readManifest, verifiedAssets, verifyAssets, type Arch, type AssetManifest } from '../assets/cache.js';
import { distributionFor, type AssetRequest, type AssetSet } from '../distribution/index.js';
import { KiabError, UsageError } from '../errors.js';
import type { Provider } from '../provider/types.js';
import { runStep, type Reporter } from '../reporter.js';
import { ADDONS, type DistributionName } from '../spec/schema.js';
import { ensureBaseImage } from './lifecycle/images.js';

export type { AssetSet };

export interface AssetCommand {
  provider: Provider;
  reporter: Reporter;
  distribution: DistributionName;
  version?: string;
  arches?: Arch[];
  force?: boolean;
  conformance?: boolean;
  signal?: AbortSignal;
}

/** The version a distribution uses when none is named, for help texts. */
export function defaultVersionOf(distribution: DistributionName): string | undefined {
  return distributionFor(distribution).defaultVersion;
}

function request(command: AssetCommand): AssetRequest {
  return {
    provider: command.provider,
    reporter: command.reporter,
    version: command.version,
    arches: command.arches ?? [hostArch()],
    force: command.force ?? false,
    conformance: command.conformance ?? false,
    ...(command.signal ? { signal: command.signal } : {}),
  };
}

/** Whether clusters of this distribution need kiab's addon set (they run Kubernetes without bringing all addons). */
function needsAddonSet(distribution: DistributionName): boolean {
  const chosen = distributionFor(distribution);
  return chosen.kubernetes && ADDONS.some((addon) => !chosen.bundledAddons[addon]);
}

/**
 * `kiab assets build`: the distribution compiles its assets from source (or says it cannot), and where kiab
 * installs the addons, they are compiled from their Go modules too.
 */
export async function buildAssets(command: AssetCommand): Promise<AssetSet[]> {
  const sets = await distributionFor(command.distribution).buildAssets(request(command));
  if (!needsAddonSet(command.distribution)) return sets;
  const baseImage = await ensureBaseImage(command.provider, command.reporter);
  return [...sets, await buildAddonAssets({ ...request(command), baseImage })];
}

/** `kiab assets pull`: the distribution downloads its release and verifies it; the addons' official images come along. */
export async function pullAssets(command: AssetCommand): Promise<AssetSet[]> {
  const sets = await distributionFor(command.distribution).pullAssets(request(command));
  return needsAddonSet(command.distribution) ? [...sets, await pullAddonAssets(request(command))] : sets;
}

export interface ImportCommand {
  files: string[];
  reporter: Reporter;
  /** Given by the user; an archive says what it holds, and these must then agree with it (else nothing is imported). */
  distribution?: DistributionName;
  version?: string;
  /** The archive's own checksum, as `assets export` printed it on the machine that made it. */
  sha256?: string;
  signal?: AbortSignal;
}

/**
 * `kiab assets import`: one kiab asset archive (from `assets export`), checked entry by entry before it lands
 * in the cache; or a distribution's release files from disk, each checked against the sums given with them.
 */
export async function importAssets(command: ImportCommand): Promise<AssetSet[]> {
  const [file] = command.files;
  if (command.files.length === 1 && file && (await isAssetArchive(file))) {
    const set = await runStep(command.reporter, `import ${file}`, (progress) =>
      importAssetArchive(file, cacheRoot(), {
        onProgress: (detail) => progress.update(detail),
        expect: { ...(command.distribution ? { distribution: command.distribution } : {}), ...(command.version ? { version: command.version } : {}) },
        ...(command.sha256 ? { sha256: command.sha256 } : {}),
        ...(command.signal ? { signal: command.signal } : {}),
      }),
    );
    return [{ ...set, reused: false }];
  }
  if (command.sha256) throw new UsageError('--sha256: only for a kiab asset archive (one FILE from `kiab assets export`)');
  return distributionFor(command.distribution ?? 'k3s').importAssets(command.version, command.files);
}

export interface ExportCommand {
  reporter: Reporter;
  distribution: DistributionName;
  /** The addon set that clusters of this distribution install, instead of the distribution's own. */
  addons?: boolean;
  version?: string;
  arch?: Arch;
  file: string;
  signal?: AbortSignal;
}

/** `kiab assets export`: one verified cached set into one archive that `assets import` takes on another machine. */
export async function exportAssets(command: ExportCommand): Promise<ArchiveFile & { set: AssetSet }> {
  if (command.addons && !needsAddonSet(command.distribution)) throw new UsageError(`--addons: ${command.distribution} clusters install no kiab addons`);
  const version = command.addons ? ADDON_SET_VERSION : (command.version ?? distributionFor(command.distribution).defaultVersion);
  if (!version || !isCacheSegment(version)) throw new UsageError(`--k8s-version: "${version ?? ''}" is not a version`);
  if (command.distribution === 'none') throw new UsageError('--k8s: none has no assets');
  compressionOf(command.file);
  const arch = command.arch ?? hostArch();
  const key = command.addons ? ('addons' as const) : command.distribution;
  const cached = await verifiedAssets({ distribution: key, version, arch });
  if (!cached) {
    throw new KiabError(`no verified ${key} ${version} ${arch} assets in ${cacheRoot()}`, {
      hint: 'see `kiab assets list`; build or pull them first (`kiab assets build` / `kiab assets pull`)',
    });
  }
  const file = resolve(command.file);
  const written = await runStep(command.reporter, `export ${key} ${version} ${arch} to ${file}`, (progress) =>
    writeAssetArchive(cached.dir, cached.manifest, file, (detail) => progress.update(detail), command.signal),
  );
  return { ...written, set: { ...cached, reused: true } };
}

/** How a set came into the cache, as `assets list` says it. */
const ORIGIN: Record<AssetManifest['source'], string> = { build: 'built', release: 'pulled', import: 'imported' };

export interface CachedAssetSet {
  distribution: string;
  version: string;
  arch: string;
  /** As the manifest says: build, release or import. */
  source: string;
  /** The same in words: built (from the Go modules here), pulled (a release, checked against its sums) or imported. */
  origin: string;
  /** When the set was written (its manifest says). */
  createdAt: string | null;
  verified: boolean;
  problem: string | null;
  files: number;
  bytes: number;
  path: string;
}

/** A folder's entries, without hidden ones (an import's staging folder beside the sets). */
async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((name) => !name.startsWith('.'));
}

/** `kiab assets list`: every set in the cache, each checked against its manifest. */
export async function listCachedAssets(): Promise<CachedAssetSet[]> {
  const rows: CachedAssetSet[] = [];
  const root = join(cacheRoot(), 'assets');
  for (const distribution of await entries(root)) {
    for (const version of await entries(join(root, distribution))) {
      for (const platform of await entries(join(root, distribution, version))) {
        const dir = join(root, distribution, version, platform);
        const manifest = await readManifest(dir);
        let problem: string | null = manifest ? null : 'no manifest';
        if (manifest) await verifyAssets(dir, manifest).catch((error: Error) => (problem = error.message));
        rows.push({
          distribution,
          version,
          arch: platform.replace(/^linux-/, ''),
          source: manifest?.source ?? '-',
          origin: manifest ? (ORIGIN[manifest.source] ?? manifest.source) : '-',
          createdAt: manifest?.createdAt ?? null,
          verified: problem === null,
          problem,
          files: Object.keys(manifest?.files ?? {}).length,
          bytes: Object.values(manifest?.files ?? {}).reduce((total, file) => total + file.size, 0),
          path: dir,
        });
      }
    }
  }
  return rows;
}

export interface RemoveAssetsCommand {
  /** kubeadm, k3s, conformance or addons: what `assets list` shows in its first column. */
  distribution: string;
  version: string;
  arch?: Arch;
}

/** `kiab assets rm`: one set out of the cache (its folder, whatever state it is in); false when there was none. */
export async function removeCachedAssets(command: RemoveAssetsCommand): Promise<string | undefined> {
  const key = { distribution: command.distribution, version: command.version, arch: command.arch ?? hostArch() };
  for (const [field, value] of Object.entries(key))
    if (!isCacheSegment(value))
      throw new UsageError(`${field === 'distribution' ? 'DISTRIBUTION' : field === 'version' ? 'VERSION' : '--arch'}: "${value}" is not a name in the cache`);
  const dir = assetDir(key as Parameters<typeof assetDir>[0]);
  if (!(await readManifest(dir)) && (await entries(dir)).length === 0) return undefined;
  await rm(dir, { recursive: true, force: true });
  return dir;
}

export { cacheRoot };
