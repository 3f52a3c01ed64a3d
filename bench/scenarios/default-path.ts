// The path a user takes, with the defaults: `kiab up` of a 1+1 kubeadm cluster with its four addons until it
// returns (every node Ready, every addon working), and `kiab reset` of it until it returns, and then until
// `kubectl top nodes` answers too (metrics-server has two scrapes, which its own readiness already waits for).
// Issue 30's goals: up median under 20 s and max under 25 s over 5; reset median under 6 s and p95 under 8 s over 20.
import { attempt, must } from '../proc.js';
import { figure, round, timed, type Figure } from '../stats.js';
import { log } from './common.js';

export const DEFAULT_PATH_CLUSTER = 'bench-default';
const UP_RUNS = 5;
const RESET_RUNS = 20;

/** kubectl on the server machine, as root there: no kubeconfig on the host is touched. */
const kubectl = (args: string[]): Promise<{ code: number }> =>
  attempt('docker', ['exec', `kiab-${DEFAULT_PATH_CLUSTER}-server-0`, 'kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args]);

/** Milliseconds until `kubectl top nodes` answers, tried every 100 ms for up to 60 s. */
async function untilTopAnswers(): Promise<number> {
  const started = performance.now();
  while ((await kubectl(['top', 'nodes'])).code !== 0) {
    if (performance.now() - started > 60_000) throw new Error('kubectl top nodes did not answer within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return performance.now() - started;
}

/** The sample at the 95th percentile (nearest rank), in seconds. */
function p95(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return round(sorted[Math.ceil(0.95 * sorted.length) - 1]! / 1000, 3);
}

export interface DefaultPathFigures {
  up_1s1w: Figure;
  reset: Figure & { p95: number };
  /** After `reset` returned, until `kubectl top nodes` answered. */
  resetThenTop: Figure;
}

export async function defaultPath(): Promise<DefaultPathFigures> {
  const up = ['up', DEFAULT_PATH_CLUSTER, '--no-switch'];
  await attempt('kiab', ['delete', DEFAULT_PATH_CLUSTER]);
  // The node image and each role's preloaded image are made outside the timed runs.
  await must('kiab', up);
  await must('kiab', ['delete', DEFAULT_PATH_CLUSTER]);
  const ups: number[] = [];
  for (let run = 0; run < UP_RUNS; run += 1) {
    log(`default path: up run ${run + 1}/${UP_RUNS}`);
    ups.push(await timed(() => must('kiab', up)));
    // The last cluster stays for the resets; each other goes.
    if (run < UP_RUNS - 1) await must('kiab', ['delete', DEFAULT_PATH_CLUSTER]);
  }
  const resets: number[] = [];
  const tops: number[] = [];
  try {
    for (let run = 0; run < RESET_RUNS; run += 1) {
      log(`default path: reset run ${run + 1}/${RESET_RUNS}`);
      resets.push(await timed(() => must('kiab', ['reset', DEFAULT_PATH_CLUSTER])));
      tops.push(await untilTopAnswers());
    }
  } finally {
    await attempt('kiab', ['delete', DEFAULT_PATH_CLUSTER]);
  }
  return { up_1s1w: figure(ups), reset: { ...figure(resets), p95: p95(resets) }, resetThenTop: figure(tops) };
}
