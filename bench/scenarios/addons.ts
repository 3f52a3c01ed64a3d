// The addon assets' build from their Go modules (kubebuild/addons/build.sh), warm: Go's build cache already
// holds every package, so this is the link of each binary into a fresh folder. The cold build (an empty
// GOCACHE) takes tens of minutes on 2 cores and runs only when KIAB_BENCH_COLD_BUILD=1.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../test/e2e/helpers.js';
import { figure, timed, type Figure } from '../stats.js';
import { log } from './common.js';

const SCRIPT = new URL('../../kubebuild/addons/build.sh', import.meta.url).pathname;

async function build(env: NodeJS.ProcessEnv): Promise<number> {
  const out = await mkdtemp(join(tmpdir(), 'kiab-bench-addons-'));
  try {
    return await timed(async () => {
      const result = await run('bash', [SCRIPT, out], { env, timeoutMs: 3 * 3600_000 });
      if (result.code !== 0) throw new Error(`build.sh exited ${result.code}: ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export async function addonBuild(runs: number): Promise<{ warm: Figure; cold: Figure | { skipped: string } } | { skipped: string }> {
  if ((await run('go', ['version'])).code !== 0) return { skipped: 'go is not installed' };
  // The first build fills the cache when it is empty; it is not a warm figure.
  await build(process.env);
  const warm: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    log(`addon build (warm) ${index + 1}/${runs}`);
    warm.push(await build(process.env));
  }
  if (process.env.KIAB_BENCH_COLD_BUILD !== '1') return { warm: figure(warm), cold: { skipped: 'set KIAB_BENCH_COLD_BUILD=1 (tens of minutes)' } };
  const cache = await mkdtemp(join(tmpdir(), 'kiab-bench-gocache-'));
  try {
    log('addon build (cold, empty GOCACHE)');
    return { warm: figure(warm), cold: figure([await build({ ...process.env, GOCACHE: cache })]) };
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}
