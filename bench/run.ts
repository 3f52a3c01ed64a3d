// `npm run bench`: kiab against the raw engine calls doing the same work, in the same run.
// Prints one JSON document and writes it to bench/results/latest.json.
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { kiab, run } from '../test/e2e/helpers.js';
import { defaultBoxImage, defaultNodeImage } from '../src/images/index.js';

const RUNS = Number(process.env.KIAB_BENCH_RUNS ?? 3);

interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function figure(samples: number[]): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (value: number): number => Math.round(value) / 1000;
  return { median: round(sorted[Math.floor(sorted.length / 2)]!), min: round(sorted[0]!), max: round(sorted[sorted.length - 1]!), runs: samples.map(round) };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function must(command: string, args: string[]): Promise<string> {
  const result = command === 'kiab' ? await kiab(args) : await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** What kiab does for a 1+2 cluster, as bare docker CLI calls: network, box, three systemd machines, wait. */
async function rawUp(name: string, subnet: string): Promise<void> {
  const prefix = subnet.split('.').slice(0, 3).join('.');
  await must('docker', ['network', 'create', '--subnet', subnet, '--label', 'kiab-bench=1', name]);
  const machine = (host: string, ip: string): string[] => [
    'run', '-d', '-t', '--name', host, '--hostname', host, '--network', name, '--ip', ip, '--label', 'kiab-bench=1',
    '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
    '--security-opt', 'systempaths=unconfined', '--cgroupns', 'private', '--device', '/dev/kmsg', '--tmpfs', '/run', '--tmpfs', '/tmp',
    '-v', `${host}-containerd:/var/lib/containerd`, '--restart', 'unless-stopped', defaultNodeImage(),
  ];
  const hosts = [`${name}-server-0`, `${name}-worker-0`, `${name}-worker-1`];
  await Promise.all([
    must('docker', ['run', '-d', '--name', `${name}-box`, '--network', name, '--ip', `${prefix}.2`, '--label', 'kiab-bench=1', '--cap-add', 'NET_ADMIN', '--sysctl', 'net.ipv4.ip_forward=1', '-p', '127.0.0.1::6443', '-p', '127.0.0.1::5000', defaultBoxImage()]),
    ...hosts.map((host, index) => must('docker', machine(host, `${prefix}.${index === 0 ? 10 : 49 + index}`))),
  ]);
  await Promise.all(
    hosts.map(async (host) => {
      for (;;) {
        const state = await run('docker', ['exec', host, 'systemctl', 'is-system-running']);
        if (/running|degraded/.test(state.stdout)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }),
  );
}

async function rawDelete(name: string): Promise<void> {
  const ids = (await must('docker', ['ps', '-aq', '--filter', 'label=kiab-bench=1'])).split('\n').filter(Boolean);
  if (ids.length) await must('docker', ['rm', '-f', '-v', ...ids]);
  await must('docker', ['network', 'rm', name]);
  const volumes = (await must('docker', ['volume', 'ls', '-q', '--filter', `name=${name}-`])).split('\n').filter(Boolean);
  if (volumes.length) await must('docker', ['volume', 'rm', ...volumes]);
}

async function main(): Promise<void> {
  await must('kiab', ['image', 'build']);
  await kiab(['delete', 'bench']);
  const kiabUp: number[] = [];
  const kiabDelete: number[] = [];
  const rawUpTimes: number[] = [];
  const rawDeleteTimes: number[] = [];
  const version: number[] = [];
  const status: number[] = [];
  for (let index = 0; index < RUNS; index += 1) {
    rawUpTimes.push(await timed(() => rawUp('kiab-rawbench', '172.31.250.0/24')));
    rawDeleteTimes.push(await timed(() => rawDelete('kiab-rawbench')));
    kiabUp.push(await timed(async () => void (await must('kiab', ['up', 'bench', '--servers', '1', '--workers', '2']))));
    status.push(await timed(async () => void (await must('kiab', ['status', 'bench']))));
    kiabDelete.push(await timed(async () => void (await must('kiab', ['delete', 'bench']))));
  }
  for (let index = 0; index < Math.max(RUNS, 5); index += 1) version.push(await timed(async () => void (await must('kiab', ['--version']))));
  const engine = (await must('docker', ['version', '--format', '{{.Server.Version}}'])).trim();
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), engine: `docker ${engine}`, node: process.version },
    unit: 'seconds',
    runs: RUNS,
    up_1s2w: { kiab: figure(kiabUp), raw: figure(rawUpTimes), ratio: Math.round((figure(kiabUp).median / figure(rawUpTimes).median) * 100) / 100 },
    delete_1s2w: { kiab: figure(kiabDelete), raw: figure(rawDeleteTimes), ratio: Math.round((figure(kiabDelete).median / figure(rawDeleteTimes).median) * 100) / 100 },
    version: figure(version),
    status_1s2w: figure(status),
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(new URL('./results/latest.json', import.meta.url), text);
  process.stdout.write(text);
}

await main();
