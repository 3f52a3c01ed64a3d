// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { connect as connectTls } from 'node:tls';
import { once } from 'node:events';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADDONS, COMPONENTS, imagesFor } from '../../src/addons/index.js';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { kubeadmDistribution } from '../../src/distribution/kubeadm/index.js';
import { resolveRelease } from '../../src/distribution/kubeadm/releases.js';
import {
  docker,
  eventually,
  hostPort,
  kiab,
  kiabJson,
  kiabOk,
  labelledObjects,
  makeBusyboxImage,
  run,
  startKiab,
  type StatusJson,
  tempDir,
} from './helpers.js';
import { passesCiSubset, type ConformanceJson } from './conformance-subset.js';
import { CONFORMANCE_ASSETS, conformanceSkip, imagesTheSuiteLists, KUBEADM_KUBECTL as KUBECTL, kubeadmSkip as skip, kubectlWith } from './kubeadm-cache.js';

import {
  checkGateway,
  checkIngress,
  checkLoadBalancer,
  checkMetrics,
  checkStatus,
  checkStorage,
  checkStorageRestored,
  curlHello,
  deployHello,
  HELLO,
  makeClaim,
  STORAGE_SNAPSHOT,
  withClaim,
  type AddonCluster,
} from './addon-checks.js';

/** On an engine others test on too, KIAB_E2E_PREFIX keeps this suite's clusters apart from theirs (e.g. `me-`). */
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';
const CLUSTER = `${PREFIX}e2e-kubeadm`;
const machine = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;

/** The container images a machine started with: what kiab recorded on the preloaded image it was made from. */
async function preloadedIn(name: string): Promise<string[]> {
  const image = (await docker(['inspect', '-f', '{{.Config.Image}}', name])).trim();
  return (await docker(['image', 'inspect', '-f', '{{index .Config.Labels "dev.kiab.preloaded"}}', image])).trim().split(' ');
}

if (skip) it('a real multi-node Kubernetes with kubeadm', { skip }, () => undefined);
else
  describe('a real multi-node Kubernetes with kubeadm, the default distribution', () => {
    let kubeconfig: string;
    let env: NodeJS.ProcessEnv;
    let status: StatusJson;
    let registry: string;
    let upOutput: string;

    const kubectl = (...args: string[]): Promise<string> => kubectlWith(kubeconfig, args, { env });
    const kiabEnv = (args: string[]) => kiab(args, { env });
    const addonCluster = (): AddonCluster => ({
      name: CLUSTER,
      status,
      busybox: `${registry}/busybox:e2e`,
      kubectl,
      kubectlInput: (input, ...args) => kubectlWith(kubeconfig, args, { env, input }),
      kiab: kiabEnv,
    });

    before(async () => {
      kubeconfig = join(await tempDir('kiab-kubeadm-'), 'config');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiabEnv(['delete', CLUSTER]);
      // No --k8s: the default distribution is kubeadm, and this is the suite that proves it.
      const up = await kiabEnv(['up', CLUSTER, '--workers', '2', '--wait', '8m', '-o', 'json']);
      assert.equal(up.code, 0, up.stderr);
      upOutput = up.stdout + up.stderr;
      status = JSON.parse(up.stdout) as StatusJson;
      registry = status.registry!.host;
      await makeBusyboxImage(`${registry}/busybox:e2e`);
      await docker(['push', `${registry}/busybox:e2e`]);
    });

    after(async () => {
      await kiabEnv(['delete', CLUSTER]);
    });

    it('writes a 0600 kubeconfig that kubectl on the host uses through the published API port', async () => {
      assert.equal((await stat(kubeconfig)).mode & 0o777, 0o600);
      const server = await kubectl('config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}');
      assert.equal(server, `https://127.0.0.1:${hostPort(status, 'api')}`);
      assert.equal(await kubectl('config', 'current-context'), `kiab-${CLUSTER}`);
    });

    it('is kubeadm by default: 1 server and 2 workers, all Ready, running the version built from source', async () => {
      assert.equal(status.distribution, 'kubeadm');
      const nodes = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as {
        items: Array<{ metadata: { name: string }; status: { conditions: Array<{ type: string; status: string }>; nodeInfo: { kubeletVersion: string } } }>;
      };
      assert.deepEqual(nodes.items.map((node) => node.metadata.name).sort(), [machine('server', 0), machine('worker', 0), machine('worker', 1)]);
      for (const node of nodes.items) {
        assert.equal(node.status.conditions.find((condition) => condition.type === 'Ready')?.status, 'True', node.metadata.name);
        assert.equal(node.status.nodeInfo.kubeletVersion, DEFAULT_KUBEADM_VERSION);
      }
    });

    it("gives the control plane the CPU first: a worker's cgroup weighs less than a server's, as the kernel sees it", async () => {
      // cpu.shares on cgroup v1, cpu.weight on v2: each machine sees its own cgroup at the root.
      const weight = async (name: string) =>
        Number(await docker(['exec', name, 'sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight']));
      const [server, worker] = [await weight(machine('server', 0)), await weight(machine('worker', 0))];
      assert.ok(worker > 0 && worker < server, `worker ${worker}, server ${server}`);
    });

    it('kubelets run with the node status pace kiab sets, as each kubelet reports its own configuration', async () => {
      for (const node of [machine('server', 0), machine('worker', 0)]) {
        const { kubeletconfig } = JSON.parse(await kubectl('get', '--raw', `/api/v1/nodes/${node}/proxy/configz`)) as {
          kubeletconfig: { nodeStatusUpdateFrequency: string; nodeStatusReportFrequency: string };
        };
        // Upstream's defaults are 10s and 5m: the first is what kiab shortens, the second what it keeps.
        assert.equal(kubeletconfig.nodeStatusUpdateFrequency, '1s', node);
        assert.equal(kubeletconfig.nodeStatusReportFrequency, '5m0s', node);
      }
    });

    it('join tokens reach no output, journal, process listing or engine metadata, and their files are gone', async () => {
      const secrets = JSON.parse(
        await kubectl('-n', 'kube-system', 'get', 'secrets', '--field-selector', 'type=bootstrap.kubernetes.io/token', '-o', 'json'),
      ) as { items: Array<{ data: Record<string, string> }> };
      const tokenSecrets = secrets.items.map(({ data }) => Buffer.from(data['token-secret']!, 'base64').toString());
      assert.ok(tokenSecrets.length >= 2, `one join token per worker, found ${tokenSecrets.length}`);
      // Every token, kubeadm init's own included, expires within minutes: none of kubeadm's 24 h default.
      for (const { data } of secrets.items) {
        const expires = Date.parse(Buffer.from(data.expiration!, 'base64').toString());
        assert.ok(expires - Date.now() < 16 * 60_000, `a bootstrap token lives until ${new Date(expires).toISOString()}`);
      }
      const seen: Record<string, string> = { 'kiab up output': upOutput };
      for (const name of [machine('server', 0), machine('worker', 0), machine('worker', 1)]) {
        seen[`${name} journal`] = await docker(['exec', name, 'journalctl', '--no-pager', '-o', 'cat']);
        seen[`${name} processes`] = await docker(['exec', name, 'ps', '-eo', 'args']);
        seen[`${name} engine metadata`] = await docker(['inspect', name]);
        seen[`${name} kiab files`] = await docker(['exec', name, 'sh', '-c', 'ls /etc/kiab; cat /etc/kiab/* 2>/dev/null; true']);
      }
      for (const secret of tokenSecrets) {
        for (const [where, text] of Object.entries(seen)) assert.ok(!text.includes(secret), `a join token's secret is in the ${where}`);
      }
      for (const [where, text] of Object.entries(seen)) if (where.endsWith('kiab files')) assert.doesNotMatch(text, /kubeadm-(join|init|upload)\.yaml/, where);
    });

    it('publishes the registry for tools (KEP-1755)', async () => {
      const data = await kubectl('-n', 'kube-public', 'get', 'configmap', 'local-registry-hosting', '-o', 'jsonpath={.data.localRegistryHosting\\.v1}');
      assert.match(data, new RegExp(`host: ${registry.replace(/[.]/g, '\\.')}`));
    });

    it('CoreDNS resolves kubernetes.default', async () => {
      await kubectl(
        'run',
        'dns-check',
        `--image=${registry}/busybox:e2e`,
        '--restart=Never',
        '--command',
        '--',
        '/busybox',
        'nslookup',
        'kubernetes.default.svc.cluster.local',
      );
      await eventually(
        async () => {
          const phase = await kubectl('get', 'pod', 'dns-check', '-o', 'jsonpath={.status.phase}');
          if (phase !== 'Succeeded') throw new Error(`dns-check is ${phase}: ${await kubectl('logs', 'dns-check').catch(() => '')}`);
        },
        120_000,
        1000,
      );
      assert.match(await kubectl('logs', 'dns-check'), /Address:\s*10\.96\.0\.1\b/);
    });

    it('runs a Deployment from an image pushed to localhost:PORT on the host, and serves it on a NodePort through the box', async () => {
      const manifest = JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web' },
            spec: {
              replicas: 2,
              selector: { matchLabels: { app: 'web' } },
              template: {
                metadata: { labels: { app: 'web' } },
                spec: {
                  topologySpreadConstraints: [
                    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } },
                  ],
                  containers: [
                    {
                      name: 'web',
                      image: `${registry}/busybox:e2e`,
                      command: [
                        '/busybox',
                        'sh',
                        '-c',
                        '/busybox mkdir -p /www && echo "hello from $(/busybox hostname)" > /www/index.html && exec /busybox httpd -f -p 8080 -h /www',
                      ],
                      ports: [{ containerPort: 8080 }],
                    },
                  ],
                },
              },
            },
          },
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'web' },
            spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] },
          },
        ],
      });
      const applied = await run(KUBECTL, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], { env, input: manifest });
      assert.equal(applied.code, 0, applied.stderr);
      await kubectl('wait', '--for=condition=Available', 'deployment/web', '--timeout=180s');
      // curl, not fetch: a fetch aborted mid-body never settles (nodejs/node#56917), and the test's event loop ends under it.
      const body = await curlHello(`http://${status.address}:30080/`);
      assert.match(body, /^hello from web-/);
    });

    it('a pod on one worker reaches a pod on the other', async () => {
      const pods = JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')) as {
        items: Array<{ metadata: { name: string }; spec: { nodeName: string }; status: { podIP: string } }>;
      };
      const nodes = new Set(pods.items.map((pod) => pod.spec.nodeName));
      assert.equal(nodes.size, 2, `web pods spread over two nodes: ${[...nodes].join(',')}`);
      const [from, to] = pods.items as [(typeof pods.items)[0], (typeof pods.items)[0]];
      const answer = await kubectl('exec', from.metadata.name, '--', '/busybox', 'wget', '-qO-', `http://${to.status.podIP}:8080/`);
      assert.equal(answer, `hello from ${to.metadata.name}`);
    });

    it('runs the four addons by default, and status says each is ready', async () => {
      await checkStatus(addonCluster());
      assert.equal(await kubectl('get', 'storageclass', '-o', 'jsonpath={.items[*].metadata.name}'), 'local-path');
    });

    it('makes each machine from an image preloaded with the addon images its role runs', async () => {
      const [server, worker] = [await preloadedIn(machine('server', 0)), await preloadedIn(machine('worker', 0))];
      const { traefik, 'metrics-server': metrics, 'metallb-speaker': speaker } = COMPONENTS;
      assert.ok(worker.includes(traefik.image) && !server.includes(traefik.image), `ingress runs on the workers: ${worker.join(', ')}`);
      assert.ok(server.includes(metrics.image) && !worker.includes(metrics.image), `metrics-server runs on the servers: ${server.join(', ')}`);
      assert.ok(server.includes(speaker.image) && worker.includes(speaker.image), 'the speaker runs everywhere');
      assert.ok(
        server.some((ref) => ref.includes('/kube-apiserver:')),
        `and the control plane's images: ${server.join(', ')}`,
      );
    });

    it('kubelets serve certificates from the cluster CA (verified, no skipping), and kubectl top gives numbers', async () => {
      const ca = await docker(['exec', machine('server', 0), 'cat', '/etc/kubernetes/pki/ca.crt']);
      for (const node of status.nodes) {
        // Checked as a client would: the chain up to the cluster CA, and the node's address among its names.
        const served = await new Promise<string>((resolve, reject) => {
          const socket = connectTls({ host: node.ip!, port: 10250, ca }, () => {
            resolve(socket.getPeerX509Certificate()!.subject);
            socket.end();
          });
          socket.once('error', reject);
        });
        assert.match(served, new RegExp(`CN=system:node:${node.name}`));
      }
      const args = await kubectl('-n', 'kube-system', 'get', 'deployment', 'metrics-server', '-o', 'jsonpath={.spec.template.spec.containers[0].args}');
      assert.doesNotMatch(args, /insecure/);
      assert.equal(await kubectl('get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'jsonpath={.spec.insecureSkipTLSVerify}'), '');
      await checkMetrics(addonCluster(), [machine('server', 0), machine('worker', 0), machine('worker', 1)]);
    });

    it('an Ingress answers through the box and the loopback ports, on http and https', async () => {
      await checkIngress(addonCluster());
      // kiab's Traefik reports the box's address for Ingresses, where their traffic comes in.
      assert.equal(await kubectl('get', 'ingress', 'hello', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'), status.address);
    });

    it('an HTTPRoute on the Gateway kiab makes answers through the box and the loopback port', async () => {
      await checkGateway(addonCluster());
    });

    it('a LoadBalancer Service gets an address from the pool that answers from the host', async () => {
      await checkLoadBalancer(addonCluster(), true);
    });

    // The snapshot it saves is restored onto nothing below, after delete --keep-snapshots.
    it('a PVC without a class binds and keeps its data for the next pod, and a named snapshot is saved with it', async () => {
      await checkStorage(addonCluster());
    });

    it("the conformance set holds, under the suite's own tags, every test image kiab makes for it", { skip: conformanceSkip }, async () => {
      const listed = await imagesTheSuiteLists();
      const manifest = JSON.parse(await readFile(join(CONFORMANCE_ASSETS, 'manifest.json'), 'utf8')) as { images: Record<string, string> };
      const held = Object.values(manifest.images);
      const made = resolveRelease(DEFAULT_KUBEADM_VERSION).testImages;
      assert.deepEqual(
        made.filter((ref) => !listed.has(ref)),
        [],
        'images the suite does not ask for',
      );
      assert.deepEqual(
        made.filter((ref) => !held.includes(ref)),
        [],
        'images the set lacks',
      );
    });

    // Upstream's conformance suite through `kiab conformance`, on this cluster so CI makes no other one.
    it('passes the CI subset of the upstream conformance suite', { skip: conformanceSkip }, async () => {
      const { summary, reports, stderr } = await passesCiSubset(CLUSTER, env);
      assert.deepEqual(JSON.parse(await readFile(join(reports, 'summary.json'), 'utf8')), summary);
      for (const junit of summary.junit) assert.match(await readFile(junit, 'utf8'), /<testsuite /);
      // Progress: a line per finished spec.
      assert.match(stderr, /passed \[sig-network\] Services should serve endpoints on same port and different protocols/);
    });

    it('conformance exits 1 and names what failed when a spec runs out of --timeout', { skip: conformanceSkip }, async () => {
      const reports = await tempDir('kiab-conformance-');
      // A report folder used before: what an earlier run left there must not be read as this run's.
      await mkdir(join(reports, 'parallel'), { recursive: true });
      await writeFile(join(reports, 'parallel', 'junit_02.xml'), '<testsuite name="an earlier run"/>');
      // The spec takes about 25 s and the suite gets 15 s, so ginkgo stops it (or, on a slow machine, the setup before it).
      const focus = String.raw`\[sig-network\] Services should serve endpoints on same port and different protocols`;
      const result = await kiab(['conformance', CLUSTER, '--focus', focus, '--timeout', '15s', '--report-dir', reports, '-o', 'json'], { env });
      assert.equal(result.code, 1, result.stderr);
      const summary = JSON.parse(result.stdout) as ConformanceJson;
      assert.equal(summary.passed, 0);
      assert.ok(summary.failed >= 1);
      assert.equal(summary.failed, summary.failures.length);
      for (const failure of summary.failures) {
        assert.match(failure.state, /timedout|interrupted/);
        assert.match(failure.message, /timeout/);
      }
      assert.match(await readFile(summary.junit[0]!, 'utf8'), /<failure /);
      assert.equal(await stat(join(reports, 'parallel', 'junit_02.xml')).catch(() => undefined), undefined, "the earlier run's report is gone");
    });

    it('conformance stops on Ctrl-C: exit 130, and no process of the suite is left', { skip: conformanceSkip }, async () => {
      const reports = await tempDir('kiab-conformance-');
      // A spec that runs for minutes, so the interrupt lands while the suite runs.
      const focus = String.raw`should \*not\* be restarted with a exec "cat /tmp/health" liveness probe`;
      const running = startKiab(['conformance', CLUSTER, '--focus', focus, '--report-dir', reports], env);
      const suite = async (): Promise<string> => (await run('pgrep', ['-f', `report-dir=${reports}/`])).stdout.trim();
      await eventually(async () => assert.notEqual(await suite(), ''), 120_000, 500);
      running.child.kill('SIGINT');
      const [code] = (await once(running.child, 'close')) as [number | null];
      assert.equal(code, 130, running.stderr());
      assert.match(running.stderr(), /^kiab: interrupted/m);
      assert.equal(await suite(), '', 'ginkgo and e2e.test are gone');
    });

    it('reset brings the cluster back to Ready with objects made after the snapshot gone', async () => {
      const restored = await kiabEnv(['reset', CLUSTER, '-o', 'json']);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(await kubectl('get', 'deployment', 'web', '--ignore-not-found', '-o', 'name'), '');
      const ready = await kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}');
      assert.deepEqual(ready.trim().split(' '), ['True', 'True', 'True']);
    });

    it("the box's API check is /readyz but for the hooks that store the default roles and priority classes, which the server names", async () => {
      const verbose = await kubectl('get', '--raw', `${kubeadmDistribution.health.apiPath!}&verbose`);
      assert.match(verbose, /\[\+\]poststarthook\/rbac\/bootstrap-roles excluded: ok/);
      assert.match(verbose, /\[\+\]poststarthook\/scheduling\/bootstrap-system-priority-classes excluded: ok/);
      assert.match(verbose, /\[\+\]etcd ok/);
      assert.match(verbose, /readyz check passed/);
      // The kubelet probes the API server's readiness the same way (kubeadm applied kiab's patch).
      const probe = await kubectl(
        '-n',
        'kube-system',
        'get',
        'pod',
        `kube-apiserver-${machine('server', 0)}`,
        '-o',
        'jsonpath={.spec.containers[0].readinessProbe.httpGet.path}',
      );
      assert.equal(probe, kubeadmDistribution.health.apiPath);
    });

    it('node add joins a Ready worker with working ingress, storage and metrics; node rm drains it and deletes the node', async () => {
      const added = await kiabEnv(['node', 'add', '--cluster', CLUSTER, '--role', 'worker', '-o', 'json']);
      assert.equal(added.code, 0, added.stderr);
      const worker2 = machine('worker', 2);
      assert.equal(await kubectl('get', 'node', worker2, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'), 'True');
      // Its own Traefik answers on its port 80 (the box forwards to the first worker, so this goes to it directly).
      await deployHello(addonCluster());
      const ip = (JSON.parse(added.stdout) as { ip: string }).ip;
      assert.equal(await curlHello(`http://${ip}/hello/`), HELLO);
      await makeClaim(addonCluster(), 'local');
      assert.equal(await withClaim(addonCluster(), 'local-writer', 'local', 'echo here > /data/file && cat /data/file', worker2), 'here');
      assert.equal(await withClaim(addonCluster(), 'local-reader', 'local', 'cat /data/file', worker2), 'here');
      await checkMetrics(addonCluster(), [worker2]);
      await kubectl('delete', 'pvc', 'local', '--wait=true');
      const removed = await kiabEnv(['node', 'rm', machine('worker', 2)]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(await kubectl('get', 'node', machine('worker', 2), '--ignore-not-found', '-o', 'name'), '');
      assert.ok(!(await labelledObjects(CLUSTER)).containers.includes(machine('worker', 2)));
    });

    it('status shows the Kubernetes view of each node', async () => {
      const seen = await kiabJson<
        StatusJson & { kubernetes?: { context: string; apiServer: string }; nodes: Array<{ kubernetes?: { ready: boolean; kubeletVersion: string } }> }
      >(['status', CLUSTER]);
      assert.equal(seen.kubernetes?.context, `kiab-${CLUSTER}`);
      for (const node of seen.nodes) assert.deepEqual([node.kubernetes?.ready, node.kubernetes?.kubeletVersion], [true, DEFAULT_KUBEADM_VERSION]);
    });

    // The in-place restore of a volume's files is the bare snapshot suite's; reset above restores in place too.
    it("after delete --keep-snapshots, a restore brings back a Ready cluster, its kubeconfig entry and the claim's file as saved", async () => {
      await kiabOk(['delete', CLUSTER, '--keep-snapshots']);
      await kiabEnv(['delete', CLUSTER, '--keep-snapshots']);
      assert.doesNotMatch(await readFile(kubeconfig, 'utf8'), new RegExp(`kiab-${CLUSTER}`));
      const restored = await kiabEnv(['snapshot', 'restore', CLUSTER, STORAGE_SNAPSHOT]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(await readFile(kubeconfig, 'utf8'), new RegExp(`name: kiab-${CLUSTER}`));
      // delete took the current context with it, and a restore sets none: each call names the cluster's.
      const context = ['--context', `kiab-${CLUSTER}`];
      const ready = await kubectl(...context, 'get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}');
      assert.deepEqual(ready.split(' '), ['True', 'True', 'True']);
      await checkStorageRestored({
        ...addonCluster(),
        kubectl: (...args) => kubectl(...context, ...args),
        kubectlInput: (input, ...args) => kubectlWith(kubeconfig, [...context, ...args], { env, input }),
      });
    });

    it('delete leaves nothing and removes its kubeconfig entries', async () => {
      await kiabOk(['delete', CLUSTER]);
      assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
      // kiabOk ran without KUBECONFIG; delete again with it so the entries in our file go too.
      await kiabEnv(['delete', CLUSTER]);
      assert.doesNotMatch(await readFile(kubeconfig, 'utf8'), new RegExp(`kiab-${CLUSTER}`));
    });
  });

const BARE = `${PREFIX}e2e-kubeadm-bare`;

if (skip) it('a kubeadm cluster without addons', { skip }, () => undefined);
else
  describe('a kubeadm cluster made with --no-addons', () => {
    let kubeconfig: string;
    let env: NodeJS.ProcessEnv;
    let up: Awaited<ReturnType<typeof kiab>>;

    before(async () => {
      kubeconfig = join(await tempDir('kiab-kubeadm-bare-'), 'config');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiab(['delete', BARE], { env });
      up = await kiab(['up', BARE, '--k8s', 'kubeadm', '--servers', '1', '--workers', '0', '--no-addons', '--no-snapshot', '--wait', '8m', '-o', 'json'], {
        env,
      });
    });

    after(async () => {
      await kiab(['delete', BARE], { env });
    });

    it('has none of them, and status lists none', async () => {
      assert.equal(up.code, 0, up.stderr);
      assert.deepEqual((JSON.parse(up.stdout) as { addons?: unknown[] }).addons, []);
      const kubectl = async (...args: string[]): Promise<string> => (await run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { env })).stdout.trim();
      assert.equal(
        await kubectl('get', 'namespaces', '-o', 'name'),
        ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system'].join('\n'),
      );
      for (const kind of ['storageclasses', 'ingressclasses']) assert.equal(await kubectl('get', kind, '-o', 'name'), '', kind);
      // The only definitions are the pod network's own: the administrator's policies its controller serves.
      const definitions = (await kubectl('get', 'customresourcedefinitions', '-o', 'name')).split('\n');
      assert.ok(definitions.length > 0 && definitions.every((name) => name.endsWith('.policy.networking.k8s.io')), definitions.join(', '));
      assert.equal(await kubectl('get', 'apiservice', 'v1beta1.metrics.k8s.io', '--ignore-not-found', '-o', 'name'), '');
      const preloaded = await preloadedIn(`kiab-${BARE}-server-0`);
      assert.ok(
        preloaded.some((ref) => ref.includes('/kube-apiserver:')),
        preloaded.join(', '),
      );
      const addonImages = new Set<string>(
        [...imagesFor(ADDONS, 'server', false), ...imagesFor(ADDONS, 'worker', true)].map((component) => COMPONENTS[component].image),
      );
      assert.ok(!preloaded.some((ref) => addonImages.has(ref)), `no addon image: ${preloaded.join(', ')}`);
    });

    it('up on it refuses to add addons later (exit 2, one line)', async () => {
      const again = await kiab(['up', BARE, '--addons', 'storage'], { env });
      assert.equal(again.code, 2);
      assert.match(again.stderr.trim(), new RegExp(`^kiab: --addons: cluster ${BARE} was made with none, and up cannot change it to storage`));
    });
  });
