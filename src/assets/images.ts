import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { run } from '../provider/run.js';
import { settleAll } from '../settle.js';
import type { Provider } from '../provider/types.js';
import type { AssetManifest } from './cache.js';

/** A line per image archive of a set, with the reference it holds and its checksum in the set's manifest: what a digest of those images hashes. */
export function imageArchiveLines(manifest: AssetManifest, images: Array<{ file: string; ref: string }>): string {
  return images.map(({ file, ref }) => `${file} ${ref} ${manifest.files[file]?.sha256 ?? ''}\n`).join('');
}

/**
 * Imports image archives of a verified asset set into one machine's containerd, skipping images it already
 * has, so nothing is ever pulled by the cluster. `images` maps an archive (relative to `dir`) to the image
 * reference it holds.
 */
export async function importImageArchives(
  provider: Provider,
  machine: string,
  ctr: string[],
  dir: string,
  images: Array<{ file: string; ref: string }>,
): Promise<void> {
  const present = (await run(provider, machine, [...ctr, 'images', 'ls', '-q'])).stdout.split('\n');
  // All at once: containerd ingests and unpacks them side by side, which took a server's six control-plane
  // images from 3.5 s one after another to 2.3 to 3 s here. Every import settles before a failure is thrown,
  // so none is left running behind the error.
  await settleAll(
    images
      .filter(({ ref }) => !present.includes(ref))
      .map(({ file, ref }) =>
        run(provider, machine, [...ctr, 'images', 'import', '--discard-unpacked-layers', '-'], {
          stdin: createReadStream(join(dir, file), { highWaterMark: 4 << 20 }),
          what: `importing ${ref}`,
        }),
      ),
  );
}
