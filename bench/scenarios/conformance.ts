// The CI subset of the upstream conformance suite (test/e2e/conformance-subset.ts) through `kiab conformance`
// on a default kubeadm cluster (1+2, addons on), as CI runs it. The first run also loads the test images into
// the machines; later runs find them there, so they show the suite alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformanceSkip } from '../../test/e2e/kubeadm-cache.js';
import { CI_FOCUS, CI_SPECS } from '../../test/e2e/conformance-subset.js';
import { attempt, must } from '../proc.js';
import { figure, timed, type Figure } from '../stats.js';
import { log } from './common.js';

const CLUSTER = 'bench-conformance';

export interface ConformanceFigures {
  specs: number;
  /** The first run on a fresh cluster: the image load into 3 machines, then the specs. */
  ci_subset_first_run: number;
  /** Runs after the first: the specs alone. */
  ci_subset: Figure;
}

export async function conformanceSubset(runs: number): Promise<ConformanceFigures | { skipped: string }> {
  if (conformanceSkip) return { skipped: conformanceSkip };
  await attempt('kiab', ['delete', CLUSTER]);
  await must('kiab', ['up', CLUSTER, '--no-snapshot', '--no-switch']);
  const reports = await mkdtemp(join(tmpdir(), 'kiab-bench-conformance-'));
  try {
    const durations: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      log(`conformance CI subset run ${run + 1}/${runs}`);
      const args = ['conformance', CLUSTER, '--focus', CI_FOCUS, '--report-dir', join(reports, String(run)), '-o', 'json'];
      durations.push(await timed(() => must('kiab', args)));
    }
    return {
      specs: CI_SPECS.length,
      ci_subset_first_run: figure(durations.slice(0, 1)).median,
      ci_subset: figure(durations.length > 1 ? durations.slice(1) : durations),
    };
  } finally {
    await attempt('kiab', ['delete', CLUSTER]);
    await rm(reports, { recursive: true, force: true });
  }
}
