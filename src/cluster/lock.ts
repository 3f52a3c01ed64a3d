import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { KiabError } from '../errors.js';
import { poll } from '../wait.js';

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
  let warned = false;
  let holderPid = '';
  // Exclusive create is the atomic step: of any number of contenders exactly one creates the file.
  const acquire = async (): Promise<true | undefined> => {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(owner);
      await handle.close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(path, 'utf8').catch(() => '');
    const [pidText, host] = holder.split('@');
    const pid = Number(pidText);
    holderPid = pidText ?? '';
    if (!holder || (host === hostname() && Number.isInteger(pid) && !isAlive(pid))) {
      await rm(path, { force: true });
      return acquire();
    }
    if (!warned) {
      options.onWait?.(pid);
      warned = true;
    }
    return undefined;
  };
  await poll(acquire, {
    interval: 200,
    deadline: Date.now() + (options.timeoutMs ?? 600_000),
    timeout: () => new KiabError(`cluster ${cluster} is locked by another kiab command (pid ${holderPid})`, { hint: `wait for it to finish, or remove ${path} if no kiab is running` }),
  });
  try {
    return await work();
  } finally {
    const holder = await readFile(path, 'utf8').catch(() => '');
    if (holder === owner) await rm(path, { force: true });
  }
}
