// Names shared by the scenarios, and progress on stderr (stdout carries only the JSON document).
import { run } from '../../test/e2e/helpers.js';
export const BENCH_CLUSTER = 'bench';
export const BENCH_NODES = ['kiab-bench-server-0', 'kiab-bench-worker-0', 'kiab-bench-worker-1'] as const;
export const RAW_CLUSTER = 'kiab-rawbench';
export const RAW_SUBNET = '172.31.250.0/24';

const started = performance.now();

export function log(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
}

export function elapsedSeconds(): number {
  return Math.round(performance.now() - started) / 1000;
}

/** kubectl on a cluster's first server, as root there (no kubeconfig on the host is touched): its output, trimmed. */
export function serverKubectl(cluster: string): (args: string[], input?: string) => Promise<string> {
  return async (args, input) => {
    const result = await run(
      'docker',
      ['exec', '-i', `kiab-${cluster}-server-0`, 'kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args],
      input ? { input } : {},
    );
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
    return result.stdout.trim();
  };
}
