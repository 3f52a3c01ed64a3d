// The baseline: what kiab does, as bare docker CLI calls. Every object is labelled kiab-bench=1 and
// kiab-bench.cluster=NAME, so cleanup removes exactly what the bench made.
import { defaultBoxImage, defaultNodeImage } from '../src/images/index.js';
import { run } from '../test/e2e/helpers.js';
import { lines, must } from './proc.js';

export const BENCH_LABEL = 'kiab-bench=1';
const clusterLabel = (name: string): string => `kiab-bench.cluster=${name}`;

export interface RawMachine {
  host: string;
  ip: string;
}

/** Machines named and addressed as kiab does: servers from .10, workers from .50. */
export function rawMachines(name: string, subnet: string, servers: number, workers: number): RawMachine[] {
  const prefix = subnet.split('.').slice(0, 3).join('.');
  return [
    ...Array.from({ length: servers }, (_, index) => ({ host: `${name}-server-${index}`, ip: `${prefix}.${10 + index}` })),
    ...Array.from({ length: workers }, (_, index) => ({ host: `${name}-worker-${index}`, ip: `${prefix}.${50 + index}` })),
  ];
}

/** `docker run` of one systemd machine with kiab's flags, from any image (the node image, or a committed one). */
function machineArgs(name: string, machine: RawMachine, image: string): string[] {
  return [
    'run',
    '-d',
    '-t',
    '--name',
    machine.host,
    '--hostname',
    machine.host,
    '--network',
    name,
    '--ip',
    machine.ip,
    '--label',
    BENCH_LABEL,
    '--label',
    clusterLabel(name),
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    '--cgroupns',
    'private',
    '--device',
    '/dev/kmsg',
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/tmp',
    '--mount',
    `type=volume,src=${machine.host}-containerd,dst=/var/lib/containerd,volume-label=${BENCH_LABEL},volume-label=${clusterLabel(name)}`,
    '--restart',
    'unless-stopped',
    image,
  ];
}

async function waitRunning(host: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await run('docker', ['exec', host, 'systemctl', 'is-system-running', '--wait']);
    if (/running|degraded/.test(state.stdout)) return;
    if (Date.now() > deadline) throw new Error(`${host}: systemd not running after ${timeoutMs / 1000}s: ${(state.stdout + state.stderr).trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Network, box and machines, in parallel, until systemd runs in every machine. */
export async function rawUp(name: string, subnet: string, servers: number, workers: number): Promise<RawMachine[]> {
  const prefix = subnet.split('.').slice(0, 3).join('.');
  const machines = rawMachines(name, subnet, servers, workers);
  await must('docker', ['network', 'create', '--subnet', subnet, '--label', BENCH_LABEL, '--label', clusterLabel(name), name]);
  await Promise.all([
    must('docker', [
      'run',
      '-d',
      '--name',
      `${name}-box`,
      '--network',
      name,
      '--ip',
      `${prefix}.2`,
      '--label',
      BENCH_LABEL,
      '--label',
      clusterLabel(name),
      '--cap-add',
      'NET_ADMIN',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      '--mount',
      `type=volume,src=${name}-registry,dst=/var/lib/docker-registry,volume-label=${BENCH_LABEL},volume-label=${clusterLabel(name)}`,
      '-p',
      '127.0.0.1::6443',
      '-p',
      '127.0.0.1::80',
      '-p',
      '127.0.0.1::443',
      '-p',
      '127.0.0.1::5000',
      defaultBoxImage(),
    ]),
    ...machines.map((machine) => must('docker', machineArgs(name, machine, defaultNodeImage()))),
  ]);
  await Promise.all(machines.map((machine) => waitRunning(machine.host)));
  return machines;
}

/** Containers (with their anonymous volumes), the network, then the named volumes. Missing objects are fine. */
export async function rawDelete(name: string): Promise<void> {
  const filter = `label=${clusterLabel(name)}`;
  const ids = lines(await must('docker', ['ps', '-aq', '--filter', filter]));
  if (ids.length) await must('docker', ['rm', '-f', '-v', ...ids]);
  const networks = lines(await must('docker', ['network', 'ls', '-q', '--filter', filter]));
  if (networks.length) await must('docker', ['network', 'rm', ...networks]);
  const volumes = lines(await must('docker', ['volume', 'ls', '-q', '--filter', filter]));
  if (volumes.length) await must('docker', ['volume', 'rm', ...volumes]);
}

/** The raw "snapshot save": `docker commit` of every machine at once. Returns the image per machine. */
export async function rawCommit(name: string, machines: readonly RawMachine[], tag: string): Promise<Map<string, string>> {
  const images = new Map(machines.map((machine) => [machine.host, `kiab-rawbench/${machine.host}:${tag}`]));
  await Promise.all(
    machines.map((machine) =>
      must('docker', ['commit', '--change', `LABEL ${BENCH_LABEL}`, '--change', `LABEL ${clusterLabel(name)}`, machine.host, images.get(machine.host)!]),
    ),
  );
  return images;
}

/** The raw "snapshot restore": per machine and all at once, `docker rm -f`, `docker run` from its image, wait for systemd. */
export async function rawRecreate(name: string, machines: readonly RawMachine[], imageOf: (machine: RawMachine) => string): Promise<void> {
  await Promise.all(
    machines.map(async (machine) => {
      await must('docker', ['rm', '-f', machine.host]);
      await must('docker', machineArgs(name, machine, imageOf(machine)));
      await waitRunning(machine.host);
    }),
  );
}

/** Images the bench made (committed machines, the image-load image). */
export async function removeBenchImages(): Promise<void> {
  const ids = [...new Set(lines(await must('docker', ['images', '-q', '--filter', `label=${BENCH_LABEL}`])))];
  if (ids.length) await must('docker', ['rmi', '-f', ...ids]);
}
