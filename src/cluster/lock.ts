import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { KiabError } from '../errors.js';

function lockDirectory(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  return runtime ? join(runtime, 'kiab') : join(tmpdir(), `kiab-${userInfo().uid}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Serialises commands that change one cluster. The lock file holds the owner's pid, so a lock left by a
 * killed `kiab up` is taken over at once instead of after a staleness timeout: the next `up` converges.
 */
export async function withClusterLock<T>(cluster: string, work: () => Promise<T>, options: { timeoutMs?: number; onWait?: (pid: number) => void } = {}): Promise<T> {
  const directory = lockDirectory();
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, `${cluster}.lock`);
  const owner = `${process.pid}@${hostname()}`;
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let warned = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(owner);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readFile(path, 'utf8').catch(() => '');
      const [pidText, host] = holder.split('@');
      const pid = Number(pidText);
      if (!holder || (host === hostname() && Number.isInteger(pid) && !isAlive(pid))) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new KiabError(`cluster ${cluster} is locked by another kiab command (pid ${pidText})`, { hint: `wait for it to finish, or remove ${path} if no kiab is running` });
      if (!warned) {
        options.onWait?.(pid);
        warned = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    const holder = await readFile(path, 'utf8').catch(() => '');
    if (holder === owner) await rm(path, { force: true });
  }
}
