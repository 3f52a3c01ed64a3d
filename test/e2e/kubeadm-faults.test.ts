// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kiab, labelledObjects, spawnKiab, tempDir } from './helpers.js';
import { kubeadmSkip } from './kubeadm-cache.js';

const CLUSTER = 'e2e-faults';
// One worker: a join to interrupt is all the moments need. The default path otherwise (addons, clean snapshot).
const UP = ['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '1', '--wait', '6m'];

interface Moment {
  /** The line after which the signal is sent, or null: at once. */
  after: RegExp | null;
  delayMs: number;
  during: string;
  signal?: 'SIGINT';
}

/**
 * Moments to kill `up` at, in the order an up reaches them: a step's line (and, with --timings, a phase's) is
 * printed when it ends, so "after X, N ms" lands N ms into the step or phase that follows X, however fast the
 * host is. Each up is killed over what the one before left, so each shows that a run takes on the leftovers of
 * the kill before it at least as far as its own moment; the up after the last one must give a Ready cluster.
 * The patterns are of lines a run over such leftovers prints too: after a kill inside kubeadm init, the next run
 * waits for that kubeadm and does not init again, so the joins are found after the pod routes.
 */
const CHAIN: Moment[] = [
  { after: null, delayMs: 300, during: 'the preflight and images' },
  { after: /✓ network /, delayMs: 0, during: 'the box' },
  { after: /✓ box /, delayMs: 0, during: 'the machines' },
  { after: /✓ machines /, delayMs: 200, during: 'the boot' },
  { after: /✓ boot /, delayMs: 500, during: 'the image import' },
  { after: /· writing pod routes \(/, delayMs: 3_000, during: 'kubeadm init' },
  { after: /· writing pod routes \(/, delayMs: 1_500, during: 'the joins' },
  { after: /✓ install kubeadm /, delayMs: 0, during: 'the Kubernetes wait' },
  { after: /✓ wait for Kubernetes /, delayMs: 0, during: 'the addons' },
  { after: /✓ pause /, delayMs: 0, during: 'the clean snapshot' },
];

/** Moments whose leftovers `delete` alone must clear, each from a fresh start. */
const DELETED_AFTER: Moment[] = [
  { after: /✓ box /, delayMs: 1_000, during: 'the machines' },
  // Ctrl-C instead, inside kubeadm init: exit 130 at the next safe point, once kubeadm is through.
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
    async function signalledUp(moment: Moment): Promise<{ code: number | null; stderr: string }> {
      // --timings prints a line as each phase of a step ends, which places the moments inside kubeadm's install.
      const child = spawnKiab([...UP, '--timings'], env);
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
      assert.ok(moment.after === null || moment.after.test(stderr), `up ended before the moment: ${stderr}`);
      if (moment.signal === 'SIGINT') {
        assert.equal(code, 130, stderr);
        assert.match(stderr, /^kiab: interrupted/m);
      } else assert.equal(code, null, `up exited ${code} before the kill: ${stderr}`);
      return { code, stderr };
    }

    async function assertDeletedClean(): Promise<void> {
      const deleted = await kiab(['delete', CLUSTER], { env });
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
      assert.doesNotMatch(await readFile(kubeconfig, 'utf8').catch(() => ''), new RegExp(`kiab-${CLUSTER}`));
    }

    CHAIN.forEach((moment, index) => {
      const over = index === 0 ? 'from nothing' : `over what the kill during ${CHAIN[index - 1]!.during} left`;
      it(`killed during ${moment.during}, ${over}`, async () => {
        await signalledUp(moment);
      });
    });

    it('the next up gives a Ready cluster with its addons and clean snapshot, and delete leaves nothing', async () => {
      const converged = await kiab([...UP, '-o', 'json'], { env });
      assert.equal(converged.code, 0, `up after the kills: ${converged.stderr}`);
      const status = JSON.parse(converged.stdout) as {
        state: string;
        nodes: Array<{ kubernetes?: { ready: boolean } | null }>;
        addons: Array<{ name: string; ready: boolean | null }>;
      };
      assert.equal(status.state, 'running');
      assert.deepEqual(
        status.nodes.map((node) => node.kubernetes?.ready),
        [true, true],
        'every node Ready',
      );
      assert.deepEqual(
        status.addons.map((addon) => [addon.name, addon.ready]),
        ['ingress', 'storage', 'loadbalancer', 'metrics'].map((name) => [name, true]),
      );
      const snapshots = await kiab(['snapshot', 'list', CLUSTER, '-o', 'json'], { env });
      assert.deepEqual(
        (JSON.parse(snapshots.stdout) as Array<{ name: string }>).map((snapshot) => snapshot.name),
        ['clean'],
        'the up takes the clean snapshot the killed one did not finish',
      );
      await assertDeletedClean();
    });

    for (const moment of DELETED_AFTER)
      it(`${moment.signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : 'killed'} during ${moment.during}: delete alone leaves nothing`, async () => {
        await signalledUp(moment);
        await assertDeletedClean();
      });
  });
