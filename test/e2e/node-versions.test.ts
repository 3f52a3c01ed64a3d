// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { assetDir, hostArch } from '../../src/assets/cache.js';
import { docker, eventually, kiab, labelledObjects, makeBusyboxImage, tempDir, type StatusJson } from './helpers.js';
import { kubeadmSkip, kubectlWith } from './kubeadm-cache.js';

/**
 * Version skew as a user sets it up: a worker whose node entry names an older release than the cluster's runs
 * that release's kubelet and kube-proxy beside the newer control plane, serves pods, and `kiab upgrade` to the
 * cluster's own release brings it level. Entries outside the skew policy are refused before anything is made.
 */
const CLUSTER_RELEASE = 'v1.37.2';
const WORKER_RELEASE = 'v1.36.3';
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';
const CLUSTER = `${PREFIX}e2e-skew`;
const REFUSED = `${PREFIX}e2e-skew-refused`;
const machine = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;

const workerAssets = assetDir({ distribution: 'kubeadm', version: WORKER_RELEASE, arch: hostArch() });
const skip =
  kubeadmSkip ||
  (await stat(join(workerAssets, 'manifest.json')).then(
    () => false,
    () => `no kubeadm assets for ${WORKER_RELEASE} in ${workerAssets}: run \`kiab assets build --k8s kubeadm --k8s-version ${WORKER_RELEASE}\` (needs Go)`,
  ));

type NodeEntry = { role: 'server' | 'worker'; kubernetesVersion?: string };

async function writeConfig(dir: string, file: string, name: string, kubernetesVersion: string, nodes: NodeEntry[]): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, stringify({ name, kubernetesVersion, workers: 1, addons: [], nodes }));
  return path;
}

/** What each node's kubelet reports, by node name. */
async function kubeletVersions(kubeconfig: string): Promise<Record<string, string>> {
  const nodes = JSON.parse(await kubectlWith(kubeconfig, ['get', 'nodes', '-o', 'json'])) as {
    items: Array<{ metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string } } }>;
  };
  return Object.fromEntries(nodes.items.map((node) => [node.metadata.name, node.status.nodeInfo.kubeletVersion]));
}

if (skip) it('a worker of another Kubernetes release', { skip }, () => undefined);
else
  describe('a worker of an older Kubernetes release than its cluster (version skew)', () => {
    let dir: string;
    let kubeconfig: string;
    let env: NodeJS.ProcessEnv;
    let config: string;
    const kubectl = (...args: string[]): Promise<string> => kubectlWith(kubeconfig, args, { env });

    before(async () => {
      dir = await tempDir('kiab-skew-');
      kubeconfig = join(dir, 'kubeconfig');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiab(['delete', CLUSTER], { env });
      await kiab(['delete', REFUSED], { env });
      config = await writeConfig(dir, 'kiab.yaml', CLUSTER, '1.37', [{ role: 'server' }, { role: 'worker', kubernetesVersion: '1.36' }]);
    });

    after(async () => {
      await kiab(['delete', CLUSTER], { env });
      await kiab(['delete', REFUSED], { env });
    });

    it('refuses, by the entry, a server of another release, a worker newer than the cluster and an unknown release, making nothing', async () => {
      const cases: Array<{ version: string; nodes: NodeEntry[]; field: string; words: RegExp }> = [
        {
          version: '1.37',
          nodes: [{ role: 'server', kubernetesVersion: '1.36' }],
          field: 'nodes.0.kubernetesVersion',
          words: /a server runs the control plane/,
        },
        {
          version: '1.36',
          nodes: [{ role: 'server' }, { role: 'worker', kubernetesVersion: '1.37' }],
          field: 'nodes.1.kubernetesVersion',
          words: /newer than the cluster's v1\.36\.3/,
        },
        {
          version: '1.37',
          nodes: [{ role: 'worker', kubernetesVersion: '1.20' }],
          field: 'nodes.0.kubernetesVersion',
          words: /does not know Kubernetes 1\.20/,
        },
      ];
      for (const [index, { version, nodes, field, words }] of cases.entries()) {
        const refused = await kiab(['up', '--config', await writeConfig(dir, `refused-${index}.yaml`, REFUSED, version, nodes)], { env });
        assert.equal(refused.code, 2, refused.stderr);
        const lines = refused.stderr.trim().split('\n');
        assert.match(lines[0]!, new RegExp(`^kiab: ${field.replace(/\./g, '\\.')}: `), refused.stderr);
        assert.match(lines[0]!, words);
        assert.deepEqual(await labelledObjects(REFUSED), { containers: [], networks: [], volumes: [] });
      }
    });

    it("runs the worker's kubelet and kube-proxy of its own release beside the cluster's control plane, all Ready", async () => {
      const up = await kiab(['up', '--config', config, '--wait', '8m', '-o', 'json'], { env, timeoutMs: 900_000 });
      assert.equal(up.code, 0, up.stderr);
      assert.equal((JSON.parse(up.stdout) as { kubernetesVersion: string }).kubernetesVersion, CLUSTER_RELEASE);
      assert.deepEqual(await kubeletVersions(kubeconfig), { [machine('server', 0)]: CLUSTER_RELEASE, [machine('worker', 0)]: WORKER_RELEASE });
      assert.match(await docker(['exec', machine('worker', 0), 'kube-proxy', '--version']), new RegExp(`${WORKER_RELEASE.replace(/\./g, '\\.')}$`));
      assert.match(await kubectl('version', '-o', 'json'), new RegExp(`"gitVersion": "${CLUSTER_RELEASE.replace(/\./g, '\\.')}"`));
      await eventually(
        async () => assert.equal(await kubectl('get', 'node', machine('worker', 0), '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'), 'True'),
        60_000,
        1000,
      );
    });

    it('serves a pod from the older worker, reached through a Service from the server', async () => {
      const status = JSON.parse((await kiab(['status', CLUSTER, '-o', 'json'], { env })).stdout) as StatusJson;
      const image = `${status.registry!.host}/busybox:e2e`;
      await makeBusyboxImage(image);
      await docker(['push', image]);
      await kubectl(
        'run',
        'skewed',
        `--image=${image}`,
        `--overrides={"spec":{"nodeName":"${machine('worker', 0)}"}}`,
        '--port=8080',
        '--',
        '/busybox',
        'sh',
        '-c',
        'mkdir -p /www && echo served by the older kubelet > /www/index.html && exec /busybox httpd -f -p 8080 -h /www',
      );
      await kubectl('expose', 'pod', 'skewed', '--port=80', '--target-port=8080');
      await kubectl('wait', '--for=condition=Ready', 'pod/skewed', '--timeout=120s');
      const address = await kubectl('get', 'service', 'skewed', '-o', 'jsonpath={.spec.clusterIP}');
      const body = await eventually(
        async () => {
          const answer = await docker(['exec', machine('server', 0), 'curl', '-sf', '--max-time', '2', `http://${address}/`]);
          assert.equal(answer.trim(), 'served by the older kubelet');
          return answer;
        },
        30_000,
        1000,
      );
      assert.ok(body);
    });

    it("kiab upgrade to the cluster's own release brings the older worker level", async () => {
      const upgraded = await kiab(['upgrade', CLUSTER, '--k8s-version', '1.37'], { env, timeoutMs: 900_000 });
      assert.equal(upgraded.code, 0, upgraded.stderr);
      assert.match(upgraded.stdout, new RegExp(`brought every machine of ${CLUSTER} to ${CLUSTER_RELEASE.replace(/\./g, '\\.')}`));
      assert.deepEqual(await kubeletVersions(kubeconfig), { [machine('server', 0)]: CLUSTER_RELEASE, [machine('worker', 0)]: CLUSTER_RELEASE });
      // Nothing is left to bring level: a second run changes nothing.
      const again = await kiab(['upgrade', CLUSTER, '--k8s-version', '1.37'], { env, timeoutMs: 300_000 });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /already; nothing to do/);
    });
  });
