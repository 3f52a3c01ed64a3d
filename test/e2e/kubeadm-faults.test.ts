// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kiab, labelledObjects, spawnKiab, tempDir } from './helpers.js';
import { kubeadmSkip } from './kubeadm-cache.js';

const CLUSTER = 'e2e-faults';
// One worker: a join to interrupt is all the moments need, and each of the suite's 24 ups makes one machine less.
const UP = ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '1', '--wait', '6m'];
// The addons' and the snapshot's own moments take them; the others leave them out, to keep the suite within CI's time.
const upArgs = (moment: { addons?: boolean; snapshot?: boolean }): string[] => [
  ...UP,
  ...(moment.addons ? [] : ['--no-addons']),
  ...(moment.snapshot ? [] : ['--no-snapshot']),
];

/**
 * Moments to kill `up` at, spread over every step: a step's line (and, with --timings, a phase's) is printed
 * when it ends, so "after X, N ms" lands N ms into the step or phase that follows X (boot, the image import,
 * kubeadm init, the joins, the Kubernetes wait, the clean snapshot), however fast the host is.
 */
const MOMENTS: Array<{ after: RegExp | null; delayMs: number; during: string; signal?: 'SIGINT'; addons?: boolean; snapshot?: boolean }> = [
  { after: null, delayMs: 300, during: 'the preflight and images' },
  { after: /✓ network /, delayMs: 0, during: 'the box' },
  { after: /✓ box /, delayMs: 0, during: 'the machines' },
  { after: /✓ machines /, delayMs: 200, during: 'the boot' },
  { after: /✓ boot /, delayMs: 500, during: 'the image import' },
  { after: /· writing pod routes \(/, delayMs: 3_000, during: 'kubeadm init' },
  { after: /· kubeadm init on \S+ \(/, delayMs: 1_500, during: 'the joins' },
  { after: /✓ install kubeadm /, delayMs: 1_000, during: 'the Kubernetes wait' },
  { after: /✓ wait for Kubernetes /, delayMs: 0, during: 'the kubeconfig and registry publishing' },
  { after: /✓ wait for Kubernetes /, delayMs: 4_000, during: 'the addons (images imported, objects applied)', addons: true },
  { after: /✓ pause /, delayMs: 0, during: 'the clean snapshot', snapshot: true },
  // Ctrl-C instead, inside kubeadm init: exit 130 at the next safe point (after init), and the same convergence.
  { after: /· writing pod routes \(/, delayMs: 3_000, during: 'kubeadm init', signal: 'SIGINT' },
];

if (kubeadmSkip) it('up of a kubeadm cluster killed at any moment converges', { skip: kubeadmSkip }, () => undefined);
else
  describe('up of a kubeadm cluster killed at any moment converges', () => {
    let env: NodeJS.ProcessEnv;
    let kubeconfig: string;

    before(async () => {
      kubeconfig = join(await tempDir('kiab-faults-'), 'config');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiab(['delete', CLUSTER], { env });
    });
    after(async () => {
      await kiab(['delete', CLUSTER], { env });
    });

    /** Starts `up` and signals it at the moment; resolves once it is gone, with its exit code and what it printed. */
    async function killedUp(moment: (typeof MOMENTS)[number]): Promise<{ code: number | null; stderr: string }> {
      // --timings prints a line as each phase of a step ends, which places the moments inside kubeadm's install.
      const child = spawnKiab([...upArgs(moment), '--timings'], env);
      let stderr = '';
      let killer: NodeJS.Timeout | undefined;
      const kill = (): void => void (killer ??= setTimeout(() => child.kill(moment.signal ?? 'SIGKILL'), moment.delayMs));
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (moment.after?.test(stderr)) kill();
      });
      if (!moment.after) kill();
      const [code] = (await once(child, 'close')) as [number | null];
      clearTimeout(killer);
      return { code, stderr };
    }

    for (const moment of MOMENTS) {
      it(`${moment.signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : 'killed'} during ${moment.during}: the next up gives a Ready cluster, and delete leaves nothing`, async () => {
        const { code, stderr } = await killedUp(moment);
        assert.ok(moment.after === null || moment.after.test(stderr), `up ended before the moment: ${stderr}`);
        if (moment.signal === 'SIGINT') {
          assert.equal(code, 130, stderr);
          assert.match(stderr, /^kiab: interrupted/m);
        }

        const converged = await kiab([...upArgs(moment), '-o', 'json'], { env });
        assert.equal(converged.code, 0, `up after the kill: ${converged.stderr}`);
        const status = JSON.parse(converged.stdout) as {
          state: string;
          nodes: Array<{ kubernetes?: { ready: boolean } | null }>;
          addons: Array<{ name: string; ready: boolean | null }>;
        };
        assert.deepEqual(
          status.addons.map((addon) => [addon.name, addon.ready]),
          moment.addons ? ['ingress', 'storage', 'loadbalancer', 'metrics'].map((name) => [name, true]) : [],
        );
        assert.equal(status.state, 'running');
        assert.deepEqual(
          status.nodes.map((node) => node.kubernetes?.ready),
          [true, true],
          'every node Ready',
        );

        if (moment.snapshot) {
          const snapshots = await kiab(['snapshot', 'list', CLUSTER, '-o', 'json'], { env });
          assert.deepEqual(
            (JSON.parse(snapshots.stdout) as Array<{ name: string }>).map((snapshot) => snapshot.name),
            ['clean'],
            'the next up takes the clean snapshot the killed one did not finish',
          );
        }

        const deleted = await kiab(['delete', CLUSTER], { env });
        assert.equal(deleted.code, 0, deleted.stderr);
        assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
        assert.doesNotMatch(await readFile(kubeconfig, 'utf8').catch(() => ''), new RegExp(`kiab-${CLUSTER}`));
      });
    }
  });
