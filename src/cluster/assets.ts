import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildAddonAssets, pullAddonAssets } from '../addons/assets.js';
import { cacheRoot, hostArch, readManifest, verifyAssets, type Arch } from '../assets/cache.js';
import { distributionFor, type AssetRequest, type AssetSet } from '../distribution/index.js';
import type { Provider } from '../provider/types.js';
import type { Reporter } from '../reporter.js';
import { ADDONS, type DistributionName } from '../spec/schema.js';
import { ensureBaseImage } from './images.js';

export type { AssetSet };

export interface AssetCommand {
  provider: Provider;
  reporter: Reporter;
  distribution: DistributionName;
  version?: string;
  arches?: Arch[];
  force?: boolean;
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

/** `kiab assets import`: release files from disk, each checked before it enters the cache. */
export function importAssets(distribution: DistributionName, version: string | undefined, files: string[]): Promise<AssetSet[]> {
  return distributionFor(distribution).importAssets(version, files);
}

export interface CachedAssetSet {
  distribution: string;
  version: string;
  arch: string;
  source: string;
  verified: boolean;
  problem: string | null;
  files: number;
  bytes: number;
  path: string;
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
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

export { cacheRoot };
