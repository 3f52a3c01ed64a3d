// The pod network's NetworkPolicy controller (kube-network-policies) on a kubeadm 1+2 --no-addons cluster: the
// time from a policy applied (kubectl apply returned) to enforced (the first connection it blocks), and from a
// policy deleted to the first connection it lets through again, 20 times each; the controller's idle memory on
// each machine; and `up` with the controller against `up` of a kiab without it (KIAB_BENCH_BASELINE_KIAB names
// that build's bin/kiab.mjs, e.g. a worktree of the commit before), alternating, until CoreDNS answers.
import { run } from '../../test/e2e/helpers.js';
import { AGNHOST, AGNHOST_ARCHIVE } from '../../test/e2e/kubeadm-cache.js';
import { attempt, must } from '../proc.js';
import { figure, round, timed, type Figure } from '../stats.js';
import { log, serverKubectl } from './common.js';
import { DNS_QUERY } from './kubeadm-phases.js';

const CLUSTER = process.env.KIAB_BENCH_NETPOL_CLUSTER ?? 'bench-netpol';
export const NETPOL_CLUSTER = CLUSTER;
const SAMPLES = 20;
const machine = (name: string): string => `kiab-${CLUSTER}-${name}`;

const kubectl = serverKubectl(CLUSTER);

/**
 * The client: a connection to the server every 20 ms with a 100 ms limit, printing the time (epoch seconds, the
 * host's clock) and the new state each time it changes, so the moment a policy took hold is read from its log.
 */
const PROBE = `last=; while :; do t=$(date +%s.%N); if timeout 0.1 bash -c "</dev/tcp/$SERVER/8080" 2>/dev/null; then s=open; else s=closed; fi; if [ "$s" != "$last" ]; then echo "$t $s"; last=$s; fi; sleep 0.02; done`;

function pod(name: string, labels: Record<string, string>, on: string, container: object): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { nodeName: machine(on), terminationGracePeriodSeconds: 0, containers: [{ name, image: AGNHOST, imagePullPolicy: 'Never', ...container }] },
  };
}

const DENY = JSON.stringify({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'bench-deny', namespace: 'default' },
  spec: { podSelector: { matchLabels: { app: 'bench-server' } }, policyTypes: ['Ingress'] },
});

/** Milliseconds from `since` (epoch ms) to the first change to `state` the probe logged after it; undefined when none came within 30 s. */
async function untilProbeSays(state: 'open' | 'closed', since: number): Promise<number | undefined> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = (await kubectl(['logs', 'bench-client', '--tail', '20'])).split('\n');
    for (const line of lines) {
      const [at, said] = line.split(' ');
      const ms = Number(at) * 1000;
      if (said === state && ms >= since - 1000) return ms - since;
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The controller's memory on each machine: the container's working set (what kubectl top shows) and the process's RSS, MiB. */
async function controllerMemory(): Promise<Record<string, { workingSetMiB: number; rssMiB: number }>> {
  const script = `p=$(pgrep -x netpol); cg=$(grep ":memory:" /proc/$p/cgroup | cut -d: -f3); f=/sys/fs/cgroup/memory$cg
echo "$(cat $f/memory.usage_in_bytes) $(awk '/^total_inactive_file /{print $2}' $f/memory.stat) $(awk '/^VmRSS:/{print $2}' /proc/$p/status)"`;
  const memory: Record<string, { workingSetMiB: number; rssMiB: number }> = {};
  for (const name of ['server-0', 'worker-0', 'worker-1']) {
    const [usage, inactive, rssKiB] = (await must('docker', ['exec', machine(name), 'sh', '-c', script])).trim().split(' ').map(Number);
    memory[name] = { workingSetMiB: round((usage! - inactive!) / 2 ** 20, 1), rssMiB: round(rssKiB! / 1024, 1) };
  }
  return memory;
}

/** Seconds until CoreDNS answers a query from the first server (the same check kubeadmPhases makes), polling every 100 ms. */
async function untilDnsAnswers(): Promise<number> {
  const start = performance.now();
  for (;;) {
    if ((await attempt('docker', ['exec', machine('server-0'), 'perl', '-e', DNS_QUERY])).code === 0) return (performance.now() - start) / 1000;
    if (performance.now() - start > 120_000) throw new Error('CoreDNS did not answer within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function timedUp(cli: string | undefined): Promise<number> {
  const args = ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '2', '--no-addons', '--no-switch', '--no-snapshot'];
  const ms = await timed(async () => {
    const result = cli ? await run(process.execPath, [cli, ...args]) : await attempt('kiab', args);
    if (result.code !== 0) throw new Error(`${cli ?? 'kiab'} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  });
  return ms;
}

async function deleteCluster(cli: string | undefined): Promise<void> {
  if (cli) await run(process.execPath, [cli, 'delete', CLUSTER]);
  else await attempt('kiab', ['delete', CLUSTER]);
}

export interface NetworkPolicyFigures {
  appliedToEnforced: Figure;
  deletedToOpen: Figure;
  /** Samples in which the probe saw no change within 30 s (left out of the figures above). */
  timedOut: { applied: number; deleted: number };
  controllerMemory: Record<string, { workingSetMiB: number; rssMiB: number }>;
  controllerMemoryTotal: { workingSetMiB: number; rssMiB: number };
  up: { withController: Figure; withoutController: Figure | { skipped: string }; addedSeconds?: number };
}

/** On a running cluster: 20 policies applied and deleted, timed by the probe; then the controller's idle memory. */
async function enforcement(): Promise<
  Pick<NetworkPolicyFigures, 'appliedToEnforced' | 'deletedToOpen' | 'timedOut' | 'controllerMemory' | 'controllerMemoryTotal'>
> {
  await must('kiab', ['image', 'load', '--cluster', CLUSTER, '--archive', AGNHOST_ARCHIVE]);
  await kubectl(['apply', '-f', '-'], JSON.stringify(pod('bench-server', { app: 'bench-server' }, 'worker-0', { args: ['netexec', '--http-port=8080'] })));
  await kubectl(['wait', '--for=condition=Ready', 'pod/bench-server', '--timeout=120s']);
  const server = await kubectl(['get', 'pod', 'bench-server', '-o', 'jsonpath={.status.podIP}']);
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify(pod('bench-client', {}, 'worker-1', { command: ['bash', '-c', PROBE], env: [{ name: 'SERVER', value: server }] })),
  );
  await kubectl(['wait', '--for=condition=Ready', 'pod/bench-client', '--timeout=120s']);
  if ((await untilProbeSays('open', 0)) === undefined) throw new Error('the probe never reached the server');
  const applied: number[] = [];
  const deleted: number[] = [];
  const timedOut = { applied: 0, deleted: 0 };
  for (let index = 0; index < SAMPLES; index += 1) {
    log(`network policy: apply and delete ${index + 1}/${SAMPLES}`);
    await kubectl(['apply', '-f', '-'], DENY);
    const enforced = await untilProbeSays('closed', Date.now());
    if (enforced === undefined) {
      timedOut.applied += 1;
      log(`network policy: no block within 30 s; the probe said: ${(await kubectl(['logs', 'bench-client', '--tail', '4'])).replace(/\n/g, ' | ')}`);
    } else applied.push(Math.max(0, enforced));
    await kubectl(['delete', 'networkpolicy', 'bench-deny']);
    const open = await untilProbeSays('open', Date.now());
    if (open === undefined) timedOut.deleted += 1;
    else deleted.push(Math.max(0, open));
  }
  // Idle: a minute after the last change, as kubeadmPhases measures the cluster's.
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  const memory = await controllerMemory();
  const total = (key: 'workingSetMiB' | 'rssMiB'): number =>
    round(
      Object.values(memory).reduce((sum, one) => sum + one[key], 0),
      1,
    );
  return {
    appliedToEnforced: figure(applied),
    deletedToOpen: figure(deleted),
    timedOut,
    controllerMemory: memory,
    controllerMemoryTotal: { workingSetMiB: total('workingSetMiB'), rssMiB: total('rssMiB') },
  };
}

export async function networkPolicy(runs: number): Promise<NetworkPolicyFigures> {
  const baseline = process.env.KIAB_BENCH_BASELINE_KIAB;
  await deleteCluster(undefined);
  // Each build's node image and preloaded images are made outside the timed runs.
  log('network policy: warm-up up, then policies applied and deleted');
  await timedUp(undefined);
  let enforced: Awaited<ReturnType<typeof enforcement>>;
  try {
    enforced = await enforcement();
  } finally {
    await deleteCluster(undefined);
  }
  if (baseline) {
    await timedUp(baseline);
    await deleteCluster(baseline);
  }
  const withController: number[] = [];
  const withoutController: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    log(`network policy: up with the controller, run ${index + 1}/${runs}`);
    withController.push((await timedUp(undefined)) + (await untilDnsAnswers()) * 1000);
    await deleteCluster(undefined);
    if (baseline) {
      log(`network policy: up without it (${baseline}), run ${index + 1}/${runs}`);
      withoutController.push((await timedUp(baseline)) + (await untilDnsAnswers()) * 1000);
      await deleteCluster(baseline);
    }
  }
  const upWith = figure(withController);
  const upWithout = baseline ? figure(withoutController) : { skipped: 'KIAB_BENCH_BASELINE_KIAB names no kiab without the controller' };
  return {
    ...enforced,
    up: {
      withController: upWith,
      withoutController: upWithout,
      ...('median' in upWithout ? { addedSeconds: round(upWith.median - upWithout.median, 2) } : {}),
    },
  };
}
