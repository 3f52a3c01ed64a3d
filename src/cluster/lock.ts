import { mkdir } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { withLockFile, type LockOptions } from '../lock.js';

function lockDirectory(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  return runtime ? join(runtime, 'kiab') : join(tmpdir(), `kiab-${userInfo().uid}`);
}

/**
 * Serialises commands that change one cluster; different clusters run in parallel. A lock left by a killed
 * `kiab up` is taken over at once, so the next `up` converges.
 */
export async function withClusterLock<T>(cluster: string, work: () => Promise<T>, options: Omit<LockOptions, 'what'> = {}): Promise<T> {
  const directory = lockDirectory();
  await mkdir(directory, { recursive: true, mode: 0o700 });
  return withLockFile(join(directory, `${cluster}.lock`), work, { ...options, what: `cluster ${cluster}` });
}
