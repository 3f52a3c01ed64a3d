import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { withLockFile } from '../lock.js';
import { sharedLockDir } from '../lock-dir.js';
import type { Reporter } from '../reporter.js';

export interface ClusterLockOptions {
  /** The engine's endpoint (Provider.endpoint): a cluster is one per engine, whichever user drives it. */
  engine: string;
  /** Told who holds the lock while this command waits for it. */
  reporter?: Reporter;
  /** Ctrl-C ends the wait. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** The engine an endpoint reaches: one socket under two paths (/run, /var/run) is one engine. */
async function engineKey(engine: string): Promise<string> {
  const socket = engine.startsWith('unix://') ? await realpath(engine.slice('unix://'.length)).catch(() => undefined) : undefined;
  return createHash('sha256')
    .update(socket ? `unix://${socket}` : engine)
    .digest('hex')
    .slice(0, 16);
}

/** The lock file of one cluster of one engine, in the shared lock folder. */
export async function clusterLockPath(engine: string, cluster: string): Promise<string> {
  return join(await sharedLockDir(), `cluster-${await engineKey(engine)}-${cluster}.lock`);
}

/**
 * Serialises commands that change one cluster of one engine; different clusters run in parallel. The lock
 * lies in the folder every user of the host shares, so `sudo kiab delete dev` waits for `kiab up dev`. A
 * lock left by a killed `kiab up` is taken over at once, so the next `up` converges.
 */
export async function withClusterLock<T>(cluster: string, work: () => Promise<T>, options: ClusterLockOptions): Promise<T> {
  return withLockFile(await clusterLockPath(options.engine, cluster), work, {
    what: `cluster ${cluster}`,
    onWait: (holder) => options.reporter?.warn(`waiting for another kiab command on cluster ${cluster} (${holder}); Ctrl-C stops waiting`),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
