import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
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

/** An empty lock file is one being written right now, unless it is this old: then its writer died. */
const EMPTY_LOCK_GRACE_MS = 5_000;
/** A takeover holds its guard for milliseconds; a guard this old was left by a process killed mid-takeover. */
const STALE_GUARD_MS = 10_000;

async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.writeFile(content);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function isStale(path: string, holder: string): Promise<boolean> {
  if (holder === '') return Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now()) > EMPTY_LOCK_GRACE_MS;
  const [pidText, host] = holder.split('@');
  const pid = Number(pidText);
  return host === hostname() && Number.isInteger(pid) && !isAlive(pid);
}

/**
 * Removes a stale lock, but only while holding the takeover guard and only if the lock still holds what
 * was judged stale: of several waiters that saw the same dead owner, one removes its lock, and none can
 * remove the lock a faster waiter has meanwhile taken.
 */
async function removeStale(path: string, staleHolder: string): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, `${process.pid}@${hostname()}`))) {
    const age = Date.now() - ((await stat(guard).catch(() => undefined))?.mtimeMs ?? Date.now());
    if (age > STALE_GUARD_MS) await rm(guard, { force: true });
    return;
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    if (now === staleHolder) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/**
 * Serialises commands that change one cluster. The lock file is made by exclusive create and holds the
 * owner's pid, so a lock left by a killed `kiab up` is taken over at once instead of after a staleness
 * timeout: the next `up` converges.
 */
export async function withClusterLock<T>(cluster: string, work: () => Promise<T>, options: { timeoutMs?: number; onWait?: (pid: number) => void } = {}): Promise<T> {
  const directory = lockDirectory();
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, `${cluster}.lock`);
  const owner = `${process.pid}@${hostname()}`;
  let warned = false;
  let holder = '';
  const acquire = async (): Promise<true | undefined> => {
    if (await createExclusive(path, owner)) return true;
    holder = await readFile(path, 'utf8').catch(() => '');
    if (await isStale(path, holder)) {
      await removeStale(path, holder);
      return (await createExclusive(path, owner)) ? true : undefined;
    }
    if (!warned) {
      options.onWait?.(Number(holder.split('@')[0]));
      warned = true;
    }
    return undefined;
  };
  await poll(acquire, {
    interval: 200,
    deadline: Date.now() + (options.timeoutMs ?? 600_000),
    timeout: () => new KiabError(`cluster ${cluster} is locked by another kiab command (${holder || 'no owner written'})`, { hint: `wait for it to finish, or remove ${path} if no kiab is running` }),
  });
  try {
    return await work();
  } finally {
    const holder = await readFile(path, 'utf8').catch(() => '');
    if (holder === owner) await rm(path, { force: true });
  }
}
