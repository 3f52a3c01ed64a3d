// 3. `kiab image load` of a ~200 MB image into the 3 machines of cluster bench, against
// `docker save IMG | docker exec -i MACHINE ctr -n k8s.io images import -` into one machine, and into all
// three one after another. The image is made offline: random data plus the host's static busybox.
import { mkdtemp, open, rm, copyFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lines, must, pipe } from '../proc.js';
import { BENCH_LABEL } from '../raw.js';
import { figure, medianMs, ratio, round, timed, type Figure } from '../stats.js';
import { BENCH_CLUSTER, BENCH_NODES, log } from './common.js';

export const LOAD_IMAGE = 'kiab-bench-blob:latest';
const LOAD_REF = `docker.io/library/${LOAD_IMAGE}`;
const IMAGE_MB = 200;
const CTR = ['ctr', '--namespace', 'k8s.io'];

interface Throughput extends Figure {
  machines: number;
  /** Image megabytes (10^6 bytes of `docker save` output) landed per second, summed over the machines. */
  MBps: number;
}

export interface ImageLoadResult {
  image: string;
  imageMB: number;
  kiab_3_parallel: Throughput;
  raw_1: Throughput;
  raw_3_sequential: Throughput;
  /** Sequential raw time over kiab's time, both into 3 machines. */
  speedupVsSequential: number;
  /** kiab into 3 over raw into 1: 1.0 would be a perfect fan-out. */
  ratioToRawOne: number;
}

/** A single-layer image of IMAGE_MB MB of random bytes and /bin/busybox, made with `docker import` (no registry). */
export async function makeLoadImage(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-bench-img-'));
  try {
    const blob = await open(join(dir, 'blob'), 'w');
    for (let written = 0; written < IMAGE_MB; written += 1) await blob.write(randomBytes(1 << 20));
    await blob.close();
    await copyFile('/bin/busybox', join(dir, 'busybox'));
    await must('tar', ['-C', dir, '-cf', join(dir, 'image.tar'), 'busybox', 'blob']);
    await must('docker', ['import', '--change', `LABEL ${BENCH_LABEL}`, '--change', 'ENTRYPOINT ["/busybox"]', join(dir, 'image.tar'), LOAD_IMAGE]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return (await must('docker', ['image', 'inspect', '--format', '{{.Id}}', LOAD_IMAGE])).trim();
}

/**
 * Removes the image from a machine's containerd (the name and the image-ID reference the CRI plugin adds),
 * synchronously, so the next import really writes and unpacks every byte again.
 */
async function forget(node: string, imageId: string): Promise<void> {
  await must('docker', ['exec', node, ...CTR, 'images', 'rm', '--sync', LOAD_REF, imageId]);
  const left = lines(await must('docker', ['exec', node, ...CTR, 'images', 'ls', '-q'])).filter((ref) => ref === LOAD_REF || ref === imageId);
  if (left.length) throw new Error(`${node}: ${left.join(', ')} still in containerd after ctr images rm --sync`);
}

function rawLoad(node: string): Promise<number> {
  return pipe(['docker', ['save', LOAD_IMAGE]], ['docker', ['exec', '-i', node, ...CTR, 'images', 'import', '-']]);
}

/** Needs cluster bench (1+2) running and makeLoadImage() done. */
export async function imageLoad(runs: number, imageId: string): Promise<ImageLoadResult> {
  const forgetAll = (): Promise<unknown> => Promise.all(BENCH_NODES.map((node) => forget(node, imageId)));
  const kiab: number[] = [];
  const one: number[] = [];
  const sequential: number[] = [];
  let bytes = 0;
  await forgetAll();
  for (let index = 0; index < runs; index += 1) {
    kiab.push(
      await timed(
        async () =>
          (bytes = (JSON.parse(await must('kiab', ['image', 'load', LOAD_IMAGE, '--cluster', BENCH_CLUSTER, '-o', 'json'])) as { bytes: number }).bytes),
      ),
    );
    await forgetAll();
    one.push(await timed(() => rawLoad(BENCH_NODES[1])));
    await forgetAll();
    sequential.push(
      await timed(async () => {
        for (const node of BENCH_NODES) await rawLoad(node);
      }),
    );
    await forgetAll();
    log(
      `run ${index + 1}/${runs} image load: kiab 3 ${(kiab.at(-1)! / 1000).toFixed(2)}s, raw 1 ${(one.at(-1)! / 1000).toFixed(2)}s, raw 3 sequential ${(sequential.at(-1)! / 1000).toFixed(2)}s`,
    );
  }
  const throughput = (samples: number[], machines: number): Throughput => ({
    ...figure(samples),
    machines,
    MBps: round(((bytes / 1e6) * machines) / (medianMs(samples) / 1000), 1),
  });
  return {
    image: LOAD_IMAGE,
    imageMB: round(bytes / 1e6, 1),
    kiab_3_parallel: throughput(kiab, BENCH_NODES.length),
    raw_1: throughput(one, 1),
    raw_3_sequential: throughput(sequential, BENCH_NODES.length),
    speedupVsSequential: round(medianMs(sequential) / medianMs(kiab)),
    ratioToRawOne: ratio(kiab, one),
  };
}
