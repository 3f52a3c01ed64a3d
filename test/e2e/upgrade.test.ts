// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { assetDir, hostArch } from '../../src/assets/cache.js';
import { HELLO, deployHello, type AddonCluster } from './addon-checks.js';
import { docker, hostPort, kiab, makeBusyboxImage, startKiab, tempDir, type StatusJson } from './helpers.js';
import { kubeadmSkip, kubectlWith } from './kubeadm-cache.js';

/**
 * `kiab upgrade` as a user rehearses one: a 1+1 cluster on the previous minor with an app behind the Ingress,
 * upgraded in place while a poller counts the app's answers; the snapshot it takes goes back; a run killed in
 * the worker phase is finished by the next.
 */
const FROM = 'v1.36.3';
const TO = 'v1.37.2';
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';
const CLUSTER = `${PREFIX}e2e-upgrade`;
const WORKER = `kiab-${CLUSTER}-worker-0`;

const fromAssets = assetDir({ distribution: 'kubeadm', version: FROM, arch: hostArch() });
const skip =
  kubeadmSkip ||
  (await stat(join(fromAssets, 'manifest.json')).then(
    () => false,
    () => `no kubeadm assets for ${FROM} in ${fromAssets}: run \`kiab assets build --k8s kubeadm --k8s-version ${FROM}\` (needs Go) to run this suite`,
  ));

interface VersionStatus extends StatusJson {
  kubernetesVersion: string | null;
  nodes: Array<StatusJson['nodes'][number] & { kubernetes?: { kubeletVersion: string | null; ready: boolean } | null }>;
}

/** GETs the app through the box's published port 80 every 100 ms until stopped; counts what failed. */
function pollApp(url: string): { stop: () => Promise<{ ok: number; failed: number; errors: string[] }> } {
  let running = true;
  const counts = { ok: 0, failed: 0, errors: [] as string[] };
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        const body = (await response.text()).trim();
        if (response.ok && body === HELLO) counts.ok += 1;
        else throw new Error(`HTTP ${response.status}: ${body.slice(0, 80)}`);
      } catch (error) {
        counts.failed += 1;
        if (counts.errors.length < 20) counts.errors.push(`${new Date().toISOString()} ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - started))));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return counts;
    },
  };
}

if (skip) it('kiab upgrade', { skip }, () => undefined);
else
  describe(`kiab upgrade: a 1+1 cluster from ${FROM} to ${TO}, in place`, () => {
    let kubeconfig: string;
    let env: NodeJS.ProcessEnv;
    let status: VersionStatus;

    const kiabEnv = (args: string[]) => kiab(args, { env, timeoutMs: 900_000 });
    const kubectl = (...args: string[]): Promise<string> => kubectlWith(kubeconfig, args, { env });
    const clusterStatus = async (): Promise<VersionStatus> => JSON.parse((await kiabEnv(['status', CLUSTER, '-o', 'json'])).stdout) as VersionStatus;
    /** The API server's version and every kubelet's, as the cluster reports them. */
    const versions = async (): Promise<{ api: string; kubelets: string[] }> => ({
      api: (JSON.parse(await kubectl('version', '-o', 'json')) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion,
      kubelets: (await kubectl('get', 'nodes', '-o', 'jsonpath={.items[*].status.nodeInfo.kubeletVersion}')).split(' '),
    });
    const containerIds = async (): Promise<string> => docker(['ps', '-aq', '--no-trunc', '--filter', `label=dev.kiab.cluster=${CLUSTER}`]);
    const snapshots = async (): Promise<string[]> =>
      (JSON.parse((await kiabEnv(['snapshot', 'list', CLUSTER, '-o', 'json'])).stdout) as Array<{ name: string }>).map((snapshot) => snapshot.name);

    before(async () => {
      kubeconfig = join(await tempDir('kiab-upgrade-'), 'config');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiabEnv(['delete', CLUSTER]);
      const up = await kiabEnv(['up', CLUSTER, '--k8s-version', '1.36', '--workers', '1', '--wait', '8m', '-o', 'json']);
      assert.equal(up.code, 0, up.stderr);
      status = JSON.parse(up.stdout) as VersionStatus;
      const busybox = `${status.registry!.host}/busybox:e2e-upgrade`;
      await makeBusyboxImage(busybox);
      await docker(['push', busybox]);
      const cluster: AddonCluster = {
        name: CLUSTER,
        status,
        busybox,
        kubectl,
        kubectlInput: (input, ...args) => kubectlWith(kubeconfig, args, { env, input }),
        kiab: kiabEnv,
      };
      await deployHello(cluster);
      await kubectl('scale', 'deployment/hello', '--replicas=2');
      await kubectl('create', 'poddisruptionbudget', 'hello', '--selector=app=hello', '--min-available=1');
      await kubectl('wait', '--for=condition=Available', 'deployment/hello', '--timeout=180s');
    });

    after(async () => {
      await kiabEnv(['delete', CLUSTER]);
    });

    it(`the minor shorthand made a ${FROM} cluster, and status says so`, async () => {
      assert.equal(status.kubernetesVersion, FROM);
      assert.deepEqual(await versions(), { api: FROM, kubelets: [FROM, FROM] });
    });

    it('refuses going back, an unknown version and a release whose assets are not cached, changing nothing', async () => {
      const before = await containerIds();
      const back = await kiabEnv(['upgrade', CLUSTER, '--k8s-version', '1.35']);
      assert.equal(back.code, 2, back.stderr);
      assert.match(back.stderr, /^kiab: --k8s-version: the cluster runs v1\.36\.3, and upgrade does not go back to v1\.35\.4; .*kiab snapshot list/m);
      const unknown = await kiabEnv(['upgrade', CLUSTER, '--k8s-version', '1.40']);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /^kiab: --k8s-version: kiab does not know Kubernetes 1\.40; it knows v1\.37\.2, v1\.36\.3, v1\.35\.4, v1\.34\.4$/m);
      const emptyCache = await tempDir('kiab-upgrade-cache-');
      const missing = await kiab(['upgrade', CLUSTER, '--k8s-version', '1.37'], { env: { ...env, KIAB_CACHE_DIR: emptyCache } });
      assert.equal(missing.code, 1, missing.stderr);
      assert.match(missing.stderr, /^kiab: no kubeadm assets for Kubernetes v1\.37\.2 in the cache; nothing was changed; /m);
      assert.match(missing.stderr, /kiab assets (build|pull) --k8s kubeadm --k8s-version v1\.37\.2/);
      for (const refused of [back, unknown, missing]) assert.equal(refused.stderr.split('\n').filter((line) => line.startsWith('kiab: ')).length, 1);
      assert.equal(await containerIds(), before);
      assert.deepEqual(await snapshots(), ['clean']);
      assert.deepEqual(await versions(), { api: FROM, kubelets: [FROM, FROM] });
    });

    it(`upgrades to ${TO} in place, killed in the worker phase and finished by the next run, while the app keeps answering through the Ingress`, async () => {
      const ids = await containerIds();
      const poller = pollApp(`http://127.0.0.1:${hostPort(status, 'http')}/hello/`);
      const killed = startKiab(['upgrade', CLUSTER, '--k8s-version', '1.37'], env);
      // The worker phase has begun once the worker is cordoned; SIGKILL gives the run no chance to tidy up. A run
      // that ends first failed, or went past the cordon between two looks: its own output says which. Each look has
      // a deadline of its own, so that one kept waiting while the API server restarts cannot miss the whole phase.
      for (const deadline = Date.now() + 600_000; ; await sleep(250)) {
        assert.equal(killed.child.exitCode, null, `the first upgrade ended before its worker phase was seen:\n${killed.stderr()}`);
        const cordoned = await kubectl('get', 'node', WORKER, '--request-timeout=5s', '-o', 'jsonpath={.spec.unschedulable}').catch(() => '');
        if (cordoned === 'true') break;
        if (Date.now() > deadline) {
          killed.child.kill('SIGKILL');
          assert.fail(`${WORKER} was not cordoned within 600 s:\n${killed.stderr()}`);
        }
      }
      killed.child.kill('SIGKILL');
      const upgrade = await kiabEnv(['upgrade', CLUSTER, '--k8s-version', '1.37']);
      const counts = await poller.stop();
      assert.equal(upgrade.code, 0, upgrade.stderr);
      assert.match(upgrade.stdout, new RegExp(`upgraded ${CLUSTER} from v1\\.36\\.3 to v1\\.37\\.2; .*snapshot restore ${CLUSTER} pre-upgrade-v1\\.36\\.3`));
      assert.match(upgrade.stdout, /reset .* returns to the snapshot clean \(Kubernetes v1\.36\.3/);
      assert.deepEqual(await versions(), { api: TO, kubelets: [TO, TO] });
      assert.equal((await clusterStatus()).kubernetesVersion, TO);
      // In place: the same machines.
      assert.equal(await containerIds(), ids);
      assert.equal(await kubectl('get', 'node', WORKER, '-o', 'jsonpath={.spec.unschedulable}'), '');
      const total = counts.ok + counts.failed;
      assert.ok(total > 100, `the poller made only ${total} requests`);
      assert.ok(counts.failed <= total * 0.02, `${counts.failed} of ${total} requests failed: ${counts.errors.join('; ')}`);
      process.stderr.write(`upgrade: ${counts.failed} of ${total} requests through the Ingress failed\n`);
      // Running it again has nothing left to do.
      const again = await kiabEnv(['upgrade', CLUSTER, '--k8s-version', TO]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`${CLUSTER} runs v1\\.37\\.2 already`));
    });

    it(`the snapshot it took gives back a Ready ${FROM} cluster`, async () => {
      assert.deepEqual((await snapshots()).sort(), ['clean', `pre-upgrade-${FROM}`]);
      const restore = await kiabEnv(['snapshot', 'restore', CLUSTER, `pre-upgrade-${FROM}`]);
      assert.equal(restore.code, 0, restore.stderr);
      assert.deepEqual(await versions(), { api: FROM, kubelets: [FROM, FROM] });
      const restored = await clusterStatus();
      assert.equal(restored.kubernetesVersion, FROM);
      assert.ok(
        restored.nodes.every((node) => node.kubernetes?.ready),
        JSON.stringify(restored.nodes),
      );
    });
  });
