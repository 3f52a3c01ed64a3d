import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, warn, type Finding } from './finding.js';

/**
 * inotify is limited per user on the whole host, and every process of every machine counts against the
 * engine's user (root): a kubelet that cannot get an instance dies with `inotify_init: too many open files`
 * minutes into a join. kiab counts before it creates machines and names the sysctl to raise instead.
 */
export interface InotifyUsage {
  maxInstances: number;
  maxWatches: number;
  instances: number;
  watches: number;
}

export const INOTIFY_SYSCTLS = { instances: 'fs.inotify.max_user_instances', watches: 'fs.inotify.max_user_watches' } as const;
/** What kind recommends and kiab's setup writes: room for several clusters side by side. */
export const RECOMMENDED = { instances: 512, watches: 524288 } as const;

async function readNumber(path: string): Promise<number | undefined> {
  const value = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/*
 * The count reads /proc synchronously: a host with a few clusters has thousands of descriptors, and each
 * asynchronous readlink is a round trip through libuv's thread pool (measured: 200 ms for a count that takes
 * a few milliseconds read directly). Nothing else runs while `up` checks the host.
 */
const readOr = <T>(read: () => T, fallback: T): T => {
  try {
    return read();
  } catch {
    // A process that ended or a descriptor closed mid-count: it holds nothing any more.
    return fallback;
  }
};

function realUid(processDir: string): number | undefined {
  const match = /^Uid:\s+(\d+)/m.exec(readOr(() => readFileSync(join(processDir, 'status'), 'utf8'), ''));
  return match ? Number(match[1]) : undefined;
}

/** Instances and watches held by one process: its inotify descriptors, and the watches each carries. */
function processUsage(processDir: string): { instances: number; watches: number } {
  let instances = 0;
  let watches = 0;
  for (const fd of readOr(() => readdirSync(join(processDir, 'fd')), [] as string[])) {
    if (readOr(() => readlinkSync(join(processDir, 'fd', fd)), '') !== 'anon_inode:inotify') continue;
    instances += 1;
    const info = readOr(() => readFileSync(join(processDir, 'fdinfo', fd), 'utf8'), '');
    watches += info.split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return { instances, watches };
}

/**
 * The host's limits and what processes of `uid` use now, or undefined where that cannot be seen (not
 * Linux, or not allowed to read other processes): then nothing is refused on a guess.
 */
export async function inotifyUsage(uid = 0, proc = '/proc'): Promise<InotifyUsage | undefined> {
  const maxInstances = await readNumber(`${proc}/sys/fs/inotify/max_user_instances`);
  const maxWatches = await readNumber(`${proc}/sys/fs/inotify/max_user_watches`);
  if (maxInstances === undefined || maxWatches === undefined) return undefined;
  // Only root sees every process's descriptors; another user sees its own, which is what it is charged for.
  if (process.getuid?.() !== 0 && uid !== process.getuid?.()) return undefined;
  let instances = 0;
  let watches = 0;
  for (const pid of readOr(() => readdirSync(proc), [] as string[]).filter((name) => /^\d+$/.test(name))) {
    if (realUid(join(proc, pid)) !== uid) continue;
    const usage = await processUsage(join(proc, pid));
    instances += usage.instances;
    watches += usage.watches;
  }
  return { maxInstances, maxWatches, instances, watches };
}

export interface InotifyNeed {
  instances: number;
  watches: number;
}

/** The smallest of a few round values that leaves room for what is in use and what is asked for. */
function suggestion(current: number, needed: number, recommended: number): number {
  let value = Math.max(recommended, current);
  while (value < needed * 2) value *= 2;
  return value;
}

/**
 * The refusal for machines that would not fit, one line naming the sysctl and a value, or undefined
 * when they fit. `what` says what is being made ("1 server + 2 workers of kubeadm").
 */
export function inotifyShortfall(usage: InotifyUsage, need: InotifyNeed, what: string): { message: string; hint: string } | undefined {
  for (const kind of ['instances', 'watches'] as const) {
    const max = kind === 'instances' ? usage.maxInstances : usage.maxWatches;
    const used = usage[kind];
    if (used + need[kind] <= max) continue;
    const sysctl = INOTIFY_SYSCTLS[kind];
    const value = suggestion(max, used + need[kind], RECOMMENDED[kind]);
    return {
      message: `host limit: ${sysctl} is ${max} with ${used} in use, and ${what} need about ${need[kind]} more`,
      hint: `raise it with \`sysctl -w ${sysctl}=${value}\` (persist it in /etc/sysctl.d/, as scripts/setup.sh does), or delete a cluster you no longer use`,
    };
  }
  return undefined;
}

/**
 * The limits as a finding: how many more of `what` (machines of one size, "1 server + 1 worker of kubeadm")
 * fit, or, when not even one does, the refusal `up` gives, naming the sysctl and a value.
 */
export function inotifyFinding(usage: InotifyUsage | undefined, need: InotifyNeed, what: string): Finding {
  if (!usage) return warn('inotify', "not checked: this host's inotify limits or the engine user's processes cannot be read here", null);
  const shortfall = inotifyShortfall(usage, need, what);
  if (shortfall) return fail('inotify', shortfall.message, shortfall.hint);
  const room = (max: number, used: number, each: number): number => (each > 0 ? Math.floor((max - used) / each) : Number.MAX_SAFE_INTEGER);
  const fits = Math.min(room(usage.maxInstances, usage.instances, need.instances), room(usage.maxWatches, usage.watches, need.watches));
  return ok(
    'inotify',
    `room for ${fits} more cluster${fits === 1 ? '' : 's'} of ${what} (${usage.maxInstances - usage.instances} of ${usage.maxInstances} instances and ${usage.maxWatches - usage.watches} of ${usage.maxWatches} watches free)`,
  );
}

/** When a log says a process died for want of inotify instances: the sysctl to raise. */
export function inotifyHint(log: string): string | undefined {
  // kubelet: "inotify_init: too many open files"; others: "fsnotify watcher: too many open files", or ENOSPC for watches.
  if (!/(inotify|fsnotify)[^\n]*(too many open files|no space left on device)/i.test(log)) return undefined;
  return `the host ran out of inotify instances or watches: raise ${INOTIFY_SYSCTLS.instances} (e.g. to ${RECOMMENDED.instances}) and ${INOTIFY_SYSCTLS.watches} (e.g. to ${RECOMMENDED.watches}) with sysctl -w`;
}
