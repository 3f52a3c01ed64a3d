// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { freePort } from '../../src/net/ports.js';
import { docker, eventually, kiab, labelledObjects, makeBusyboxImage, readTcp, run, type StatusJson, tempDir } from './helpers.js';
import { CI_PROXY_SPECS, passesCiSubset } from './conformance-subset.js';
import { conformanceSkip, kubeadmSkip as skip, kubectlWith } from './kubeadm-cache.js';

/** On an engine others test on too, KIAB_E2E_PREFIX keeps this suite's clusters apart from theirs. */
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';
const CLUSTER = `${PREFIX}e2e-kind`;
const REFUSED = `${PREFIX}e2e-kind-refused`;
const machine = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;
const NODE_PORT = 30950;
const GATE = 'CPUManagerPolicyAlphaOptions';

interface KindNode {
  role: string;
  labels?: Record<string, string>;
  extraMounts?: Array<{ hostPath: string; containerPath: string }>;
  extraPortMappings?: Array<{ containerPort: number; hostPort: number }>;
}

/** A kind config as teams keep them: a control plane and two workers, shaped with kind's own fields. */
function kindConfig(name: string, options: { hostDir: string; hostPort: number; workerLabels: Record<string, string> }): string {
  const nodes: KindNode[] = [
    { role: 'control-plane', extraPortMappings: [{ containerPort: NODE_PORT, hostPort: options.hostPort }] },
    { role: 'worker', labels: options.workerLabels, extraMounts: [{ hostPath: options.hostDir, containerPath: '/shared' }] },
    { role: 'worker' },
  ];
  return stringify({
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name,
    featureGates: { [GATE]: true },
    networking: { kubeProxyMode: 'nftables' },
    kubeadmConfigPatches: ['kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    event-ttl: 2h0m0s\n'],
    nodes,
  });
}

if (skip) it('a kind config file runs unchanged', { skip }, () => undefined);
else
  describe('a kind config file runs unchanged (kubeadm, 1 control plane + 2 workers)', () => {
    let dir: string;
    let hostDir: string;
    let kubeconfig: string;
    let env: NodeJS.ProcessEnv;
    let hostPortNumber: number;
    let registry: string;
    let configPath: string;

    const kubectl = (...args: string[]): Promise<string> => kubectlWith(kubeconfig, args, { env });
    const kubectlApply = async (objects: unknown[]): Promise<void> => {
      await kubectlWith(kubeconfig, ['apply', '-f', '-'], { env, input: objects.map((object) => stringify(object)).join('---\n') });
    };
    const containerIds = async (): Promise<string[]> =>
      (await docker(['ps', '-a', '--filter', `label=dev.kiab.cluster=${CLUSTER}`, '--filter', 'label=dev.kiab.role=worker', '--format', '{{.ID}}']))
        .split('\n')
        .sort();

    before(async () => {
      dir = await tempDir('kiab-kind-');
      hostDir = join(dir, 'shared');
      await mkdir(hostDir);
      kubeconfig = join(dir, 'kubeconfig');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      hostPortNumber = await freePort();
      await kiab(['delete', CLUSTER], { env });
      configPath = join(dir, 'kind.yaml');
      await writeFile(configPath, kindConfig(CLUSTER, { hostDir, hostPort: hostPortNumber, workerLabels: { tier: 'frontend' } }));
      const up = await kiab(['up', '--config', configPath, '--no-addons', '--wait', '8m', '-o', 'json'], { env });
      assert.equal(up.code, 0, up.stderr);
      registry = (JSON.parse(up.stdout) as StatusJson).registry!.host;
      await makeBusyboxImage(`${registry}/busybox:e2e`);
      await docker(['push', `${registry}/busybox:e2e`]);
    });

    after(async () => {
      await kiab(['delete', CLUSTER], { env });
    });

    it('makes three Ready nodes, and the label on exactly the one worker', async () => {
      const nodes = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as {
        items: Array<{ metadata: { name: string; labels: Record<string, string> }; status: { conditions: Array<{ type: string; status: string }> } }>;
      };
      assert.deepEqual(nodes.items.map((node) => node.metadata.name).sort(), [machine('server', 0), machine('worker', 0), machine('worker', 1)]);
      for (const node of nodes.items) assert.equal(node.status.conditions.find((condition) => condition.type === 'Ready')?.status, 'True', node.metadata.name);
      assert.deepEqual(
        nodes.items.filter((node) => node.metadata.labels.tier === 'frontend').map((node) => node.metadata.name),
        [machine('worker', 0)],
      );
    });

    it('mounts the host folder into the worker both ways, through a hostPath pod on that node', async () => {
      await writeFile(join(hostDir, 'from-host'), 'written on the host\n');
      await kubectlApply([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'mount-check', namespace: 'default' },
          spec: {
            nodeSelector: { tier: 'frontend' },
            restartPolicy: 'Never',
            containers: [
              {
                name: 'check',
                image: `${registry}/busybox:e2e`,
                command: ['/busybox', 'sh', '-c', '/busybox cat /data/from-host && echo written by the pod > /data/from-pod'],
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', hostPath: { path: '/shared', type: 'Directory' } }],
          },
        },
      ]);
      await eventually(async () => assert.equal(await kubectl('get', 'pod', 'mount-check', '-o', 'jsonpath={.status.phase}'), 'Succeeded'), 120_000, 1000);
      assert.equal(await kubectl('logs', 'mount-check'), 'written on the host');
      assert.equal(await readFile(join(hostDir, 'from-pod'), 'utf8'), 'written by the pod\n');
    });

    it('forwards the mapped host port to a NodePort Service', async () => {
      await kubectlApply([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'web', namespace: 'default', labels: { app: 'kind-web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: `${registry}/busybox:e2e`,
                command: [
                  '/busybox',
                  'sh',
                  '-c',
                  'mkdir -p /www && echo hello through the mapping > /www/index.html && exec /busybox httpd -f -p 8080 -h /www',
                ],
              },
            ],
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'web', namespace: 'default' },
          spec: { type: 'NodePort', selector: { app: 'kind-web' }, ports: [{ port: 80, targetPort: 8080, nodePort: NODE_PORT }] },
        },
      ]);
      const response = await eventually(
        async () => {
          const text = await readTcp('127.0.0.1', hostPortNumber, 5000, 'GET / HTTP/1.0\r\n\r\n');
          assert.match(text, /^HTTP\/1\.[01] 200/);
          return text;
        },
        120_000,
        1000,
      );
      assert.ok(response.endsWith('\r\n\r\nhello through the mapping\n'), response);
    });

    it("puts the feature gate and the patched flag on the API server's command line", async () => {
      const commandLine = await docker([
        'exec',
        machine('server', 0),
        'sh',
        '-c',
        'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done | grep "^kube-apiserver "',
      ]);
      assert.match(commandLine, new RegExp(`--feature-gates=[^ ]*${GATE}=true`));
      assert.match(commandLine, /--event-ttl=2h0m0s/);
    });

    it('runs kube-proxy in nftables mode on every node (its nftables table, no iptables chain of its own)', async () => {
      for (const name of [machine('server', 0), machine('worker', 0), machine('worker', 1)]) {
        await eventually(async () => assert.match(await docker(['exec', name, 'nft', 'list', 'table', 'ip', 'kube-proxy']), /chain services/), 60_000, 1000);
        const iptables = await run('docker', ['exec', name, 'iptables', '-t', 'nat', '-S', 'KUBE-SERVICES']);
        assert.notEqual(iptables.code, 0, `${name} has an iptables KUBE-SERVICES chain: ${iptables.stdout}`);
      }
    });

    // Services, DNS, pod networking and a webhook through kube-proxy's nftables rules, as upstream's suite checks
    // them: the subset's specs that kube-proxy carries. kubeadm.test.ts runs them all in iptables mode.
    it('passes the Service specs of the CI subset of the upstream conformance suite in nftables mode', { skip: conformanceSkip }, async () => {
      await passesCiSubset(CLUSTER, env, CI_PROXY_SPECS);
    });

    it('changes labels and taints on the live nodes with up, without making machines again', async () => {
      const before = await containerIds();
      const changed = join(dir, 'kind-changed.yaml');
      const config = kindConfig(CLUSTER, { hostDir, hostPort: hostPortNumber, workerLabels: { tier: 'backend' } });
      await writeFile(changed, config);
      // kind has no taints field: the same nodes in kiab.yaml form, from convert, get one.
      const converted = await kiab(['config', 'convert', changed]);
      assert.equal(converted.code, 0, converted.stderr);
      const kiabYaml = converted.stdout.replace(
        '      tier: backend\n',
        '      tier: backend\n    taints:\n      - key: dedicated\n        value: backend\n        effect: NoSchedule\n',
      );
      assert.notEqual(kiabYaml, converted.stdout, 'the converted file has the worker labels where this test adds a taint');
      await writeFile(join(dir, 'kiab.yaml'), kiabYaml);
      const up = await kiab(['up', '--config', join(dir, 'kiab.yaml'), '--no-addons'], { env });
      assert.equal(up.code, 0, up.stderr);
      const node = JSON.parse(await kubectl('get', 'node', machine('worker', 0), '-o', 'json')) as {
        metadata: { labels: Record<string, string> };
        spec: { taints?: Array<{ key: string; value?: string; effect: string }> };
      };
      assert.equal(node.metadata.labels.tier, 'backend');
      assert.deepEqual(
        node.spec.taints?.filter((taint) => taint.key === 'dedicated'),
        [{ key: 'dedicated', value: 'backend', effect: 'NoSchedule' }],
      );
      assert.deepEqual(await containerIds(), before);
    });

    it('refuses a mount change on a made machine, naming the field and the way to make it again', async () => {
      const other = join(dir, 'other');
      await mkdir(other);
      const moved = join(dir, 'kind-moved.yaml');
      await writeFile(moved, kindConfig(CLUSTER, { hostDir: other, hostPort: hostPortNumber, workerLabels: { tier: 'backend' } }));
      const up = await kiab(['up', '--config', moved, '--no-addons'], { env });
      assert.equal(up.code, 2, up.stderr);
      assert.match(up.stderr, /nodes\.1\.mounts/);
      assert.match(up.stderr, /kiab node rm/);
    });
  });

if (!skip)
  describe('registries.mirrors', () => {
    // Mirrors are written where containerd reads them whatever runs on top: bare machines (seconds to make) show it.
    const mirrored = `${PREFIX}e2e-kind-mirror`;
    after(async () => {
      await kiab(['delete', mirrored]);
    });

    it('makes a machine pull docker.io/library/NAME from the box registry, pushed there under that name', async () => {
      const file = join(await tempDir('kiab-mirror-'), 'kiab.yaml');
      await writeFile(
        file,
        stringify({
          name: mirrored,
          distribution: 'none',
          servers: 1,
          workers: 0,
          registries: { mirrors: { 'docker.io': [`http://kiab-${mirrored}-box:5000`] } },
        }),
      );
      await kiab(['delete', mirrored]);
      const up = await kiab(['up', '--config', file, '-o', 'json']);
      assert.equal(up.code, 0, up.stderr);
      const registry = (JSON.parse(up.stdout) as StatusJson).registry!.host;
      await makeBusyboxImage(`${registry}/library/kiab-mirror-check:e2e`);
      await docker(['push', `${registry}/library/kiab-mirror-check:e2e`]);
      const server = `kiab-${mirrored}-server-0`;
      const pulled = await run('docker', [
        'exec',
        server,
        'ctr',
        'image',
        'pull',
        '--hosts-dir',
        '/etc/containerd/certs.d',
        'docker.io/library/kiab-mirror-check:e2e',
      ]);
      assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout);
      assert.match(await docker(['exec', server, 'ctr', 'image', 'ls', '-q']), /docker\.io\/library\/kiab-mirror-check:e2e/);
    });
  });

if (!skip)
  describe('a kind config kiab cannot honour is refused by its field, before anything is made', () => {
    let dir: string;
    before(async () => {
      dir = await tempDir('kiab-kind-refused-');
      await kiab(['delete', REFUSED]);
    });

    const refused = async (name: string, config: string, pattern: RegExp): Promise<void> => {
      const path = join(dir, name);
      await writeFile(path, config);
      const up = await kiab(['up', '--config', path, '--no-addons']);
      assert.equal(up.code, 2, up.stderr);
      assert.match(up.stderr, pattern);
      assert.deepEqual(await labelledObjects(REFUSED), { containers: [], networks: [], volumes: [] });
    };

    it('an unknown kind field, by its path', async () => {
      await refused(
        'unknown.yaml',
        `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: ${REFUSED}\nnodes:\n- role: worker\n  extraThings: true\n`,
        /nodes\.0\.extraThings/,
      );
    });

    it('a mount whose host path does not exist', async () => {
      const config = kindConfig(REFUSED, { hostDir: join(dir, 'missing'), hostPort: await freePort(), workerLabels: {} });
      await refused('missing.yaml', config, /nodes\.1\.mounts\.0\.hostPath: .*missing does not exist/);
    });

    it('a mapped host port that is taken', async () => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const taken = (holder.address() as { port: number }).port;
      try {
        await mkdir(join(dir, 'present'), { recursive: true });
        const config = kindConfig(REFUSED, { hostDir: join(dir, 'present'), hostPort: taken, workerLabels: {} });
        await refused('taken.yaml', config, new RegExp(`nodes\\.0\\.portMappings\\.0\\.hostPort: host port ${taken}/TCP is already in use`));
      } finally {
        holder.close();
      }
    });
  });
