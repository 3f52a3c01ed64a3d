import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { withLockFile } from '../lock.js';
import { sharedLockDir } from '../lock-dir.js';

const SET_WRITE_WAIT_MS = 2 * 3600_000;

/**
 * Writes an asset set under a lock of its own, which every cluster's `up` and every user's `assets` command
 * writing the same folder takes: two downloads never share a `.part`. The lock lies outside the cache, so a
 * host without network is left no cache folder.
 */
export async function withAssetSetLock<T>(
  dir: string,
  work: () => Promise<T>,
  options: { signal?: AbortSignal; onWait?: (holder: string) => void } = {},
): Promise<T> {
  const key = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 24);
  // Writing a set can take as long as a cold build from source (half an hour on a small host): wait that long.
  return withLockFile(join(await sharedLockDir(), `assets-${key}.lock`), work, { timeoutMs: SET_WRITE_WAIT_MS, ...options, what: `asset set ${dir}` });
}
