import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { run } from '../provider/run.js';
import type { Provider } from '../provider/types.js';

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
  for (const { file, ref } of images) {
    if (present.includes(ref)) continue;
    await run(provider, machine, [...ctr, 'images', 'import', '-'], {
      stdin: createReadStream(join(dir, file), { highWaterMark: 4 << 20 }),
      what: `importing ${ref}`,
    });
  }
}
