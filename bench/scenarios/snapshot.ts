// 2. `snapshot save`, `snapshot restore` and `reset` of a 1+2 cluster holding 200 MB per machine, against
// `docker commit` and `docker rm -f` + `docker run` from the committed images, all machines in parallel.
import { defaultNodeImage } from '../../src/images/index.js';
import { must } from '../proc.js';
import { rawCommit, rawRecreate, type RawMachine } from '../raw.js';
import { figure, ratio, timed, type Figure } from '../stats.js';
import { BENCH_CLUSTER, BENCH_NODES, RAW_CLUSTER, log } from './common.js';

export const BLOB_MB = 200;
const SNAP = 'big';

export interface SnapshotResult {
  machines: number;
  blobMBPerMachine: number;
  save: { kiab: Figure; raw: Figure; ratio: number };
  restore: { kiab: Figure; raw: Figure; ratio: number };
  /** kiab reset (back to the clean snapshot) against the raw restore above, as the brief's target asks. */
  reset: { kiab: Figure; rawRestore: Figure; ratio: number; rawFromNodeImage: Figure; ratioToRawFromNodeImage: number };
}

const writeBlob = ['dd', 'if=/dev/urandom', 'of=/root/blob', 'bs=1M', `count=${BLOB_MB}`, 'conv=fsync', 'status=none'];
const writeSmall = ['sh', '-c', 'echo after-snapshot > /root/small && sync'];
/** Exit 0 when the machine holds the snapshot's blob and not what was written after it. */
const checkRestored = ['sh', '-c', 'test -f /root/blob && ! test -e /root/small'];
const checkClean = ['sh', '-c', '! test -e /root/blob && ! test -e /root/small'];

async function onKiab(args: string[]): Promise<void> {
  await Promise.all(BENCH_NODES.map((node) => must('kiab', ['exec', node, '--', ...args])));
}

async function onRaw(machines: readonly RawMachine[], args: string[]): Promise<void> {
  await Promise.all(machines.map((machine) => must('docker', ['exec', machine.host, ...args])));
}

async function expect(what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

/** Needs cluster bench (1+2, with its clean snapshot) and the raw 1+2 machines up. */
export async function snapshots(runs: number, raw: readonly RawMachine[]): Promise<SnapshotResult> {
  const save: number[] = [];
  const restore: number[] = [];
  const reset: number[] = [];
  const rawSave: number[] = [];
  const rawRestore: number[] = [];
  const rawReset: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    await Promise.all([onKiab(writeBlob), onRaw(raw, writeBlob)]);
    await must('sync', []);

    save.push(await timed(() => must('kiab', ['snapshot', 'save', BENCH_CLUSTER, SNAP])));
    let images = new Map<string, string>();
    rawSave.push(await timed(async () => (images = await rawCommit(RAW_CLUSTER, raw, SNAP))));

    await Promise.all([onKiab(writeSmall), onRaw(raw, writeSmall)]);
    restore.push(await timed(() => must('kiab', ['snapshot', 'restore', BENCH_CLUSTER, SNAP])));
    rawRestore.push(await timed(() => rawRecreate(RAW_CLUSTER, raw, (machine) => images.get(machine.host)!)));
    await expect('kiab snapshot restore did not bring the snapshot back', () => onKiab(checkRestored));
    await expect('raw restore did not bring the commit back', () => onRaw(raw, checkRestored));

    await onKiab(writeSmall);
    reset.push(await timed(() => must('kiab', ['reset', BENCH_CLUSTER])));
    rawReset.push(await timed(() => rawRecreate(RAW_CLUSTER, raw, () => defaultNodeImage())));
    await expect('kiab reset did not go back to clean', () => onKiab(checkClean));

    await must('kiab', ['snapshot', 'rm', BENCH_CLUSTER, SNAP]);
    await must('docker', ['rmi', ...images.values()]);
    log(
      `run ${index + 1}/${runs} snapshot: save ${(save.at(-1)! / 1000).toFixed(2)}s (raw ${(rawSave.at(-1)! / 1000).toFixed(2)}s), restore ${(restore.at(-1)! / 1000).toFixed(2)}s (raw ${(rawRestore.at(-1)! / 1000).toFixed(2)}s), reset ${(reset.at(-1)! / 1000).toFixed(2)}s`,
    );
  }
  return {
    machines: BENCH_NODES.length,
    blobMBPerMachine: BLOB_MB,
    save: { kiab: figure(save), raw: figure(rawSave), ratio: ratio(save, rawSave) },
    restore: { kiab: figure(restore), raw: figure(rawRestore), ratio: ratio(restore, rawRestore) },
    reset: {
      kiab: figure(reset),
      rawRestore: figure(rawRestore),
      ratio: ratio(reset, rawRestore),
      rawFromNodeImage: figure(rawReset),
      ratioToRawFromNodeImage: ratio(reset, rawReset),
    },
  };
}
