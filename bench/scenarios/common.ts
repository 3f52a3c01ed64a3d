// Names shared by the scenarios, and progress on stderr (stdout carries only the JSON document).
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
