import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KiabError } from '../errors.js';

/*
 * On a cgroup v1 host, runc freezes a container's cgroup for a moment while it sets it up or kills it. A
 * machine killed in that moment (kiab delete, a crash) leaves a pod's cgroup inside it frozen for good, and a
 * frozen process cannot die even of SIGKILL: the engine's removal of the machine never finishes. Thawing
 * every frozen cgroup of the machine lets the kill land.
 */

export const FREEZER_ROOT = '/sys/fs/cgroup/freezer';

/** Where a container's freezer cgroup lies on the host, by cgroup driver (cgroupfs, then systemd). */
function containerCgroups(root: string, containerId: string): string[] {
  return [join(root, 'docker', containerId), join(root, 'system.slice', `docker-${containerId}.scope`)];
}

/** Thaws every frozen cgroup at and below `dir`; how many it thawed. A folder that is not there has none. */
async function thawBelow(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let thawed = 0;
  if (entries.some((entry) => entry.name === 'freezer.state') && (await thaw(join(dir, 'freezer.state')))) thawed += 1;
  for (const entry of entries) if (entry.isDirectory()) thawed += await thawBelow(join(dir, entry.name));
  return thawed;
}

/** A frozen cgroup this user may not thaw: names the file and the command that thaws it. */
export class ThawDeniedError extends KiabError {
  constructor(readonly state: string) {
    super(`${state} is frozen and this user may not thaw it, so the machine cannot be killed`, {
      hint: `run \`echo THAWED | sudo tee ${state}\`, then the same command again`,
    });
    this.name = 'ThawDeniedError';
  }
}

/**
 * Thaws one cgroup if it is frozen; whether it did. A cgroup that went away meanwhile (its container is
 * being torn down) needs nothing; one this user may not write is a ThawDeniedError.
 */
async function thaw(state: string): Promise<boolean> {
  try {
    if ((await readFile(state, 'utf8')).trim() === 'THAWED') return false;
    await writeFile(state, 'THAWED');
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new ThawDeniedError(state);
    return false;
  }
}

/** Thaws the frozen cgroups of a container of this host's engine (cgroup v1); how many there were. */
export async function thawContainerCgroups(containerId: string, root = FREEZER_ROOT): Promise<number> {
  let thawed = 0;
  for (const dir of containerCgroups(root, containerId)) thawed += await thawBelow(dir);
  return thawed;
}
