// kube-proxy's modes side by side, for choosing networking.kubeProxyMode's default on evidence: on a kubeadm 1+1
// --no-addons cluster per mode, with BACKGROUND Services already programmed, the time from a new Service
// created (kubectl create returned) to its cluster IP answering from the worker machine, SAMPLES times; then
// kube-proxy's own mean rule sync time from its metrics, and its memory.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGNHOST, AGNHOST_ARCHIVE } from '../../test/e2e/kubeadm-cache.js';
import { attempt, must } from '../proc.js';
import { figure, round, type Figure } from '../stats.js';
import { log, serverKubectl } from './common.js';

export const PROXY_MODES_CLUSTER = 'bench-proxy';
const MODES = ['iptables', 'nftables'] as const;
const SAMPLES = 20;
/** Services that exist before the timed ones: a rule set of some size, as a cluster with a few apps has. */
const BACKGROUND = 100;
const machine = (role: string): string => `kiab-${PROXY_MODES_CLUSTER}-${role}`;

const kubectl = serverKubectl(PROXY_MODES_CLUSTER);

const service = (name: string, clusterIP?: string): object => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { ...(clusterIP ? { clusterIP } : {}), selector: { app: 'bench-server' }, ports: [{ port: 80, targetPort: 8080 }] },
});
/**
 * The timed Services' addresses, fixed so the probe runs before the Service exists: in the lower band of the
 * default range, which the API server keeps for addresses asked for and gives out on its own only when full.
 */
const timedAddress = (index: number): string => `10.96.0.${100 + index}`;

/**
 * On the worker machine: tries the address every 10 ms (100 ms limit each) and prints the host clock (epoch
 * seconds; machines share the host's kernel and clock) at the first answer, or "timeout" after 30 s.
 */
const UNTIL_ANSWERED = `end=$(( $(date +%s) + 30 )); until curl -s -o /dev/null --max-time 0.1 "http://$1/hostname"; do [ "$(date +%s)" -lt "$end" ] || { echo timeout; exit 1; }; sleep 0.01; done; date +%s.%N`;

/** kube-proxy's mean time to write its rules, from its own metrics on the worker (the sync histogram's sum over count). */
async function meanSyncSeconds(): Promise<number> {
  const text = await must('docker', ['exec', machine('worker-0'), 'curl', '-s', 'http://127.0.0.1:10249/metrics']);
  // One series per IP family in newer releases (a label), one without labels in older ones: summed either way.
  const value = (name: string): number =>
    [...text.matchAll(new RegExp(`^kubeproxy_sync_proxy_rules_duration_seconds_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
      (total, match) => total + Number(match[1]),
      0,
    );
  return round(value('sum') / value('count'), 4);
}

/** kube-proxy's resident memory on the worker, MiB. */
async function proxyRssMiB(): Promise<number> {
  const status = await must('docker', ['exec', machine('worker-0'), 'sh', '-c', 'cat /proc/$(pidof kube-proxy)/status']);
  return round(Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) / 1024, 1);
}

export interface ModeFigures {
  /** A new Service created to its cluster IP answering from the worker, with BACKGROUND Services in place. */
  serviceToAnswer: Figure;
  timedOut: number;
  meanSyncSeconds: number;
  rssMiB: number;
}

async function measureMode(mode: (typeof MODES)[number]): Promise<ModeFigures> {
  const folder = await mkdtemp(join(tmpdir(), 'kiab-bench-proxy-'));
  const config = join(folder, 'kiab.yaml');
  await writeFile(config, `name: ${PROXY_MODES_CLUSTER}\nnetworking:\n  kubeProxyMode: ${mode}\n`);
  await attempt('kiab', ['delete', PROXY_MODES_CLUSTER]);
  try {
    await must('kiab', ['up', '--config', config, '--workers', '1', '--no-addons', '--no-snapshot', '--no-switch']);
    await must('kiab', ['image', 'load', '--cluster', PROXY_MODES_CLUSTER, '--archive', AGNHOST_ARCHIVE]);
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'bench-server', namespace: 'default', labels: { app: 'bench-server' } },
        spec: { containers: [{ name: 'agnhost', image: AGNHOST, imagePullPolicy: 'Never', args: ['netexec', '--http-port=8080'] }] },
      }),
    );
    await kubectl(['wait', '--for=condition=Ready', 'pod/bench-server', '--timeout=120s']);
    const background = Array.from({ length: BACKGROUND }, (_, index) => service(`bench-background-${index}`));
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: background }));
    // Every background Service's rules in place: the last one answers.
    const last = await kubectl(['get', 'service', `bench-background-${BACKGROUND - 1}`, '-o', 'jsonpath={.spec.clusterIP}']);
    await must('docker', ['exec', machine('worker-0'), 'bash', '-c', UNTIL_ANSWERED, 'until', last]);
    const samples: number[] = [];
    let timedOut = 0;
    for (let index = 0; index < SAMPLES; index += 1) {
      // The probe first, so that it already tries when the Service is made.
      const probe = attempt('docker', ['exec', machine('worker-0'), 'bash', '-c', UNTIL_ANSWERED, 'until', timedAddress(index)]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await kubectl(['create', '-f', '-'], JSON.stringify(service(`bench-timed-${index}`, timedAddress(index))));
      const created = Date.now();
      const answered = await probe;
      if (answered.code === 0) samples.push(Number(answered.stdout.trim()) * 1000 - created);
      else timedOut += 1;
      log(`kube-proxy ${mode}: service ${index + 1}/${SAMPLES}`);
    }
    return { serviceToAnswer: figure(samples.map((ms) => Math.max(0, ms))), timedOut, meanSyncSeconds: await meanSyncSeconds(), rssMiB: await proxyRssMiB() };
  } finally {
    await attempt('kiab', ['delete', PROXY_MODES_CLUSTER]);
  }
}

export async function kubeProxyModes(): Promise<Record<(typeof MODES)[number], ModeFigures>> {
  const figures: Partial<Record<(typeof MODES)[number], ModeFigures>> = {};
  for (const mode of MODES) figures[mode] = await measureMode(mode);
  return figures as Record<(typeof MODES)[number], ModeFigures>;
}
