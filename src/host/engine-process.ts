import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The processes of a local engine, as /proc shows them: machines inherit their capability bounding set and
 * their file limits from these (dockerd starts containerd, whose shims start runc, which can only drop).
 */
export interface EngineProcess {
  pid: number;
  name: string;
  /** CapBnd: the capabilities any container of this engine can be given at most. */
  capabilityBound: bigint;
  /** The hard RLIMIT_NOFILE, undefined when /proc does not say. */
  nofileHard: number | undefined;
}

/** The daemons that start containers: Docker's two, and Podman's service for its Docker-compatible socket. */
const ENGINE_NAMES = new Set(['dockerd', 'containerd', 'podman']);

function field(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s+(.+)$`, 'm').exec(status)?.[1]?.trim();
}

function nofileHard(limits: string): number | undefined {
  const match = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/**
 * The engine's daemons run by `uid` in this PID namespace. Those of another namespace are left out: every
 * kiab machine runs a containerd of its own, with the machine's reduced capabilities, and a Docker in a
 * container is not the engine kiab talks to. Empty where /proc cannot be read.
 */
export async function engineProcesses(uid: number, proc = '/proc'): Promise<EngineProcess[]> {
  const ownNamespace = await readlink(join(proc, 'self', 'ns', 'pid')).catch(() => undefined);
  const found: EngineProcess[] = [];
  for (const pid of (await readdir(proc).catch(() => [] as string[])).filter((name) => /^\d+$/.test(name))) {
    const status = await readFile(join(proc, pid, 'status'), 'utf8').catch(() => '');
    const name = field(status, 'Name');
    if (!name || !ENGINE_NAMES.has(name) || Number(field(status, 'Uid')?.split(/\s+/)[0]) !== uid) continue;
    if ((await readlink(join(proc, pid, 'ns', 'pid')).catch(() => undefined)) !== ownNamespace) continue;
    const bound = field(status, 'CapBnd');
    if (!bound || !/^[0-9a-f]+$/i.test(bound)) continue;
    const limits = await readFile(join(proc, pid, 'limits'), 'utf8').catch(() => '');
    found.push({ pid: Number(pid), name, capabilityBound: BigInt(`0x${bound}`), nofileHard: nofileHard(limits) });
  }
  return found;
}
