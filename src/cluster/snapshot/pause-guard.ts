import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KiabError } from '../../errors.js';
import { sharedLockDir } from '../../lock-dir.js';
import { holderMayRun, lockOwner } from '../../lock.js';
import { poll } from '../../wait.js';

/*
 * The engine cannot pause a machine while an exec into it is starting: the exec's process freezes half-way,
 * the engine keeps the machine locked for it, and the machine can then be neither unpaused nor removed
 * (Docker 20.10 on cgroup v1; a CI run hung so, `kiab list` in one suite looking into a machine that a snapshot
 * in another suite paused). A snapshot holds the cluster's lock, so every command that changes the cluster
 * waits for it; the looks that need no lock (status, list) instead say so in a file of their own while they look,
 * and stay out while a snapshot's pause is under way. Each side writes its file before it reads the other's,
 * so one of the two always sees the other.
 */

/** Longer than any look (one `systemctl` in a machine): a pause waits this long at most for the looks under way. */
const LOOKS_DEADLINE_MS = 15_000;

/**
 * The files of one cluster's pause and looks, by its name alone: a look may reach the engine by another endpoint
 * than the pause (a TCP endpoint and the socket of one engine), and a same-named cluster of another engine is
 * only held off for the moment of a pause.
 */
async function paths(cluster: string): Promise<{ dir: string; pausing: string; lookPrefix: string }> {
  const dir = await sharedLockDir();
  return { dir, pausing: join(dir, `pausing-${cluster}`), lookPrefix: `look-${cluster}.` };
}

/** Whether the process that wrote a look or pause file may still run (one left by a killed command holds nothing back). */
async function writerAlive(file: string): Promise<boolean> {
  const written = await readFile(file, 'utf8').catch(() => undefined);
  if (written === undefined) return false;
  // An empty file is being written this instant: it counts (for LOOKS_DEADLINE_MS at most).
  return written === '' || holderMayRun(written);
}

/**
 * Runs `look` (which execs into the cluster's machines) unless a snapshot is pausing them, in which case
 * `instead` answers without touching them.
 */
export async function lookUnlessPausing<T>(cluster: string, look: () => Promise<T>, instead: () => Promise<T>): Promise<T> {
  const { dir, pausing, lookPrefix } = await paths(cluster);
  const mine = join(dir, `${lookPrefix}${randomUUID()}`);
  await writeFile(mine, lockOwner(), { mode: 0o644 });
  try {
    return (await writerAlive(pausing)) ? await instead() : await look();
  } finally {
    await rm(mine, { force: true });
  }
}

/**
 * Marks the cluster's machines as about to be paused, then waits for the looks under way to end (at most
 * LOOKS_DEADLINE_MS); returns what lifts the mark once every machine is unpaused.
 */
export async function holdOffLooks(cluster: string, signal?: AbortSignal): Promise<() => Promise<void>> {
  const { dir, pausing, lookPrefix } = await paths(cluster);
  await writeFile(pausing, lockOwner(), { mode: 0o644 });
  const lift = (): Promise<void> => rm(pausing, { force: true });
  // Past the deadline the pause goes ahead: a look that long is not starting an exec.
  const deadline = Date.now() + LOOKS_DEADLINE_MS;
  try {
    await poll(
      async () => {
        const looks = (await readdir(dir)).filter((name) => name.startsWith(lookPrefix)).map((name) => join(dir, name));
        const alive = await Promise.all(looks.map(writerAlive));
        return !alive.some(Boolean) || Date.now() >= deadline ? true : undefined;
      },
      {
        interval: 100,
        deadline: deadline + 5_000,
        timeout: () => new KiabError(`the looks into cluster ${cluster}'s machines did not end`),
        ...(signal ? { signal } : {}),
      },
    );
  } catch (error) {
    await lift();
    throw error;
  }
  return lift;
}
