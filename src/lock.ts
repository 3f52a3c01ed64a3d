import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { KiabError } from './errors.js';
import { poll } from './wait.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What a lock-like file holds: the writing process, as pid@host. */
export const lockOwner = (): string => `${process.pid}@${hostname()}`;

/**
 * Whether the writer a non-empty lock-like file names may still run: only a process of this host can be seen
 * to have died; one of another host sharing the folder counts as running.
 */
export function holderMayRun(holder: string): boolean {
  const [pidText, host] = holder.split('@');
  const pid = Number(pidText);
  return host !== hostname() || !Number.isInteger(pid) || isAlive(pid);
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
  return !holderMayRun(holder);
}

/**
 * Removes a stale lock, but only while holding the takeover guard and only if the lock still holds what
 * was judged stale: of several waiters that saw the same dead owner, one removes its lock, and none can
 * remove the lock a faster waiter has meanwhile taken.
 */
async function removeStale(path: string, staleHolder: string): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, lockOwner()))) {
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

export interface LockOptions {
  timeoutMs?: number;
  /** Called once when another process holds the lock, with who that is ("pid 123 of user root"). */
  onWait?: (holder: string) => void;
  /** What is locked, for the timeout error ("cluster dev"). */
  what?: string;
  /** Ctrl-C ends the wait. */
  signal?: AbortSignal;
}

/** The name of the user with this uid, from the host's user list; the uid when it has none. */
async function userName(uid: number): Promise<string> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const entry = passwd.split('\n').find((line) => line.split(':')[2] === String(uid));
  return entry?.split(':')[0] ?? `uid ${uid}`;
}

/** Who holds a lock, for the user waiting on it: the pid it wrote and the user who owns its file. */
async function describeHolder(path: string, holder: string): Promise<string> {
  const owner = (await stat(path).catch(() => undefined))?.uid;
  const [pid, host] = holder.split('@');
  const who = pid ? `pid ${pid}${host && host !== hostname() ? ` on ${host}` : ''}` : 'a process that is writing it';
  return owner === undefined ? who : `${who} of user ${await userName(owner)}`;
}

/**
 * Runs `work` holding the lock file `path`, made by exclusive create and holding the owner's pid@host. A
 * lock whose owner died is taken over at once instead of after a staleness timeout; an empty one (kubectl's
 * own lock files are empty) after a short grace.
 */
export async function withLockFile<T>(path: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const owner = lockOwner();
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
      warned = true;
      options.onWait?.(await describeHolder(path, holder));
    }
    return undefined;
  };
  await poll(acquire, {
    interval: 200,
    deadline: Date.now() + (options.timeoutMs ?? 600_000),
    ...(options.signal ? { signal: options.signal } : {}),
    timeout: async () =>
      new KiabError(`${options.what ?? path} is locked by another process (${holder ? await describeHolder(path, holder) : 'no owner written'})`, {
        hint: `wait for it to finish, or remove ${path} if none is running`,
      }),
  });
  try {
    return await work();
  } finally {
    const holder = await readFile(path, 'utf8').catch(() => '');
    if (holder === owner) await rm(path, { force: true });
  }
}
