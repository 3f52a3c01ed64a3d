import { chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The folder of locks every user of this host shares ($KIAB_LOCK_DIR, else kiab-locks in the temporary
 * folder): world-writable and sticky like /tmp itself, so that `sudo kiab` and `kiab` meet the same locks,
 * and no user can remove another's lock while its owner lives.
 */
export async function sharedLockDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = env.KIAB_LOCK_DIR || join(tmpdir(), 'kiab-locks');
  await mkdir(dir, { recursive: true, mode: 0o1777 });
  // The mode of mkdir is cut by the umask; only the folder's owner can set it, once is enough.
  await chmod(dir, 0o1777).catch(() => undefined);
  return dir;
}
