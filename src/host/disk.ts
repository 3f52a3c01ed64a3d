import { statfs } from 'node:fs/promises';
import { fail, ok, warn, type Finding } from './finding.js';

const GIB = 2 ** 30;
/** Below this an `up` runs out of space part-way (a kubeadm server alone imports about 400 MB of images). */
const TOO_LITTLE = GIB;
/** Below this a second cluster, a snapshot or an `image load` may not fit. */
const LITTLE = 10 * GIB;

/** Bytes free to the engine's user where the engine keeps its data, or undefined when that cannot be read. */
export async function freeBytes(path: string): Promise<number | undefined> {
  const info = await statfs(path).catch(() => undefined);
  return info ? info.bavail * info.bsize : undefined;
}

export function diskFinding(path: string, free: number | undefined): Finding {
  const fix = `free space on the file system of ${path} (\`docker system prune\` removes stopped containers and unused images), or delete clusters and snapshots you no longer use`;
  if (free === undefined) return warn('disk', `not checked: ${path}, where the engine keeps its data, cannot be read here`, null);
  const shown = `${(free / GIB).toFixed(1)} GiB free in ${path}, where the engine keeps images, machines and volumes`;
  if (free < TOO_LITTLE) return fail('disk', `${shown}: a cluster needs more than ${TOO_LITTLE / GIB} GiB`, fix);
  if (free < LITTLE) return warn('disk', `${shown}: enough for one small cluster, maybe not for more or for snapshots`, fix);
  return ok('disk', shown);
}
