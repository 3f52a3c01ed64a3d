// up --k8s kubeadm 1+2 --no-addons and reset of that cluster, phase by phase (kiab's --timings lines and the
// moments Kubernetes records), each until every node is Ready and CoreDNS answers a query; and the memory
// each machine of the idle cluster uses a minute after up.
import { attempt, lines, must } from '../proc.js';
import { figure, medianMs, round, timed, type Figure } from '../stats.js';
import { kubernetesTimeline, parseTimings, phaseTotals } from '../timeline.js';
import { log } from './common.js';

/** On a shared engine, KIAB_BENCH_KUBEADM_CLUSTER names the cluster after its owner. */
export const PHASES_CLUSTER = process.env.KIAB_BENCH_KUBEADM_CLUSTER ?? 'bench-kubeadm';
const CLUSTER = PHASES_CLUSTER;
const SERVER = `kiab-${CLUSTER}-server-0`;
const UNITS: Record<string, number> = { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024 };

/**
 * One DNS query for kubernetes.default from the first server to the cluster DNS service (through kube-proxy's
 * rules), in Perl as the machines have it: exit 0 only for an answer with at least one record.
 */
export const DNS_QUERY = `use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => "10.96.0.10:53", Proto => "udp") or exit 2;
my $q = pack("n6", 0x2a2a, 0x0100, 1, 0, 0, 0) . join("", map { chr(length) . $_ } split /\\./, "kubernetes.default.svc.cluster.local") . "\\0" . pack("n2", 1, 1);
$s->send($q) or exit 2;
my $in = ""; vec($in, fileno($s), 1) = 1;
select(my $ready = $in, undef, undef, 0.5) or exit 3;
my $r; $s->recv($r, 512);
my ($id, $flags, $qd, $an) = unpack("n4", $r);
exit((($flags & 15) == 0 && $an > 0) ? 0 : 4);`;

/** Seconds until CoreDNS answers, polling every 100 ms (0 when it answers at once). */
async function untilDnsAnswers(): Promise<number> {
  const start = performance.now();
  for (;;) {
    if ((await attempt('docker', ['exec', SERVER, 'perl', '-e', DNS_QUERY])).code === 0) return round((performance.now() - start) / 1000, 1);
    if (performance.now() - start > 120_000) throw new Error('CoreDNS did not answer within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function timeline(start: number): Promise<Record<string, number>> {
  const json = await must('docker', [
    'exec',
    SERVER,
    'kubectl',
    '--kubeconfig',
    '/etc/kubernetes/admin.conf',
    'get',
    'nodes,pods',
    '--namespace',
    'kube-system',
    '-o',
    'json',
  ]);
  return kubernetesTimeline((JSON.parse(json) as { items: Parameters<typeof kubernetesTimeline>[0] }).items, start);
}

/** MiB per container of the cluster (docker stats), a minute after up. */
async function idleMemory(): Promise<Record<string, number>> {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  const usage = await must('docker', ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}']);
  const perMachine: Record<string, number> = {};
  for (const line of lines(usage)) {
    const match = /^(\S+) ([\d.]+)(B|KiB|MiB|GiB) /.exec(line);
    const prefix = `kiab-${CLUSTER}-`;
    if (match?.[1]?.startsWith(prefix)) perMachine[match[1].slice(prefix.length)] = Math.round(Number(match[2]) * UNITS[match[3]!]!);
  }
  perMachine.total = Object.values(perMachine).reduce((total, value) => total + value, 0);
  return perMachine;
}

interface Measured {
  /** Seconds until the command returned (every node Ready, system pods running). */
  returned: number;
  /** Seconds after it returned until CoreDNS answered a query (0: at once). */
  dnsAfter: number;
  phases: Record<string, number>;
  kubernetes: Record<string, number>;
}

async function measure(args: string[]): Promise<Measured> {
  const start = Date.now();
  let stderr = '';
  const returned = await timed(async () => {
    const result = await attempt('kiab', [...args, '--timings']);
    if (result.code !== 0) throw new Error(`kiab ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    stderr = result.stderr;
  });
  const dnsAfter = await untilDnsAnswers();
  return { returned: round(returned / 1000, 2), dnsAfter, phases: phaseTotals(parseTimings(stderr)), kubernetes: await timeline(start) };
}

/** Per phase: the median over the runs that have it. */
function medians(runs: Array<Record<string, number>>): Record<string, number> {
  const names = [...new Set(runs.flatMap((run) => Object.keys(run)))];
  return Object.fromEntries(
    names.map((name) => [name, round(medianMs(runs.map((run) => run[name]).filter((value): value is number => value !== undefined)), 1)]),
  );
}

export interface KubeadmPhaseFigures {
  /** up 1+2 --no-addons (with its clean snapshot) until it returned, and until CoreDNS answered. */
  up: { returned: Figure; usable: Figure; phases: Record<string, number>; kubernetes: Record<string, number> };
  reset: { returned: Figure; usable: Figure; phases: Record<string, number>; kubernetes: Record<string, number> };
  /** MiB per container, a minute after the first up, and their total. */
  idleMemoryMiB: Record<string, number>;
}

export async function kubeadmPhases(runs: number): Promise<KubeadmPhaseFigures> {
  await attempt('kiab', ['delete', CLUSTER]);
  // The node image, and the preloaded image of each role, are built outside the timed runs.
  await must('kiab', ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '1', '--no-addons', '--no-snapshot', '--no-switch']);
  await must('kiab', ['delete', CLUSTER]);
  const ups: Measured[] = [];
  const resets: Measured[] = [];
  let memory: Record<string, number> = {};
  for (let run = 0; run < runs; run += 1) {
    log(`kubeadm phases: up 1+2 run ${run + 1}/${runs}`);
    ups.push(await measure(['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '2', '--no-addons', '--no-switch']));
    if (run === 0) memory = await idleMemory();
    log(`kubeadm phases: reset run ${run + 1}/${runs}`);
    resets.push(await measure(['reset', CLUSTER]));
    await must('kiab', ['delete', CLUSTER]);
  }
  const summary = (measured: Measured[]): KubeadmPhaseFigures['up'] => ({
    returned: figure(measured.map((one) => one.returned * 1000)),
    usable: figure(measured.map((one) => (one.returned + one.dnsAfter) * 1000)),
    phases: medians(measured.map((one) => one.phases)),
    kubernetes: medians(measured.map((one) => one.kubernetes)),
  });
  return { up: summary(ups), reset: summary(resets), idleMemoryMiB: memory };
}
