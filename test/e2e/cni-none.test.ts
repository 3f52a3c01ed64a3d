// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { goOnPath } from '../../src/host/go.js';
import { importImage, kiab, run, tempDir } from './helpers.js';
import { CONFORMANCE_ASSETS, KUBEADM_KUBECTL as KUBECTL, kubeadmSkip } from './kubeadm-cache.js';

/** On an engine others test on too, KIAB_E2E_PREFIX keeps this suite's clusters apart from theirs (e.g. `me-`). */
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';
const CLUSTER = `${PREFIX}e2e-net-nocni`;
const node = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;

/** The test pods run upstream's agnhost (netexec serves, connect dials), from the conformance set: no registry is needed. */
const AGNHOST_ARCHIVE = join(CONFORMANCE_ASSETS, 'images', 'agnhost-2.66.1.tar');
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.66.1';
/** The user's CNI: the plugins built from github.com/containernetworking/plugins (kubebuild/cni) beside the host's static busybox. */
const CNI_IMAGE = 'kiab-e2e/cni-installer:v1.10.0';
const CNI_BUILD = fileURLToPath(new URL('../../kubebuild/cni/build.sh', import.meta.url));

const skip: false | string =
  kubeadmSkip ||
  (goOnPath() ? false : 'no go on PATH: the CNI plugins this suite installs are built from their Go module') ||
  (await stat('/bin/busybox').then(
    () => false,
    () => 'no /bin/busybox (Debian: busybox-static) for the CNI installer image',
  )) ||
  (await stat(AGNHOST_ARCHIVE).then(
    () => false,
    () => `no agnhost test image in ${AGNHOST_ARCHIVE}: run \`kiab assets build --k8s kubeadm --conformance\` (needs Go) to run this suite`,
  ));

/** Builds the plugins from their Go module and packs them with busybox into an image, with no registry. */
async function buildCniImage(): Promise<void> {
  const dir = await tempDir('kiab-cni-');
  const build = await run(CNI_BUILD, [join(dir, 'cni')], { timeoutMs: 600_000 });
  assert.equal(build.code, 0, build.stderr);
  const tar = await run('tar', ['-cf', join(dir, 'image.tar'), '-C', dir, 'cni', '-C', '/', 'bin/busybox']);
  assert.equal(tar.code, 0, tar.stderr);
  await importImage(join(dir, 'image.tar'), CNI_IMAGE, '/bin/busybox');
}

/**
 * What a user writes to run bridge + host-local as the pod network: per node (by name) a CNI configuration on the
 * node's podCIDR and the routes to the other nodes' podCIDRs; a DaemonSet on the host network installs both.
 */
function cniObjects(nodes: Array<{ name: string; podCidr: string; ip: string }>): object[] {
  const data: Record<string, string> = {};
  for (const self of nodes) {
    data[`${self.name}.conflist`] = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'e2e-bridge',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni-e2e',
          isGateway: true,
          // Pods reach the API server and the engine's DNS behind their node's address.
          ipMasq: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: self.podCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
      ],
    });
    data[`${self.name}.routes`] = nodes
      .filter((other) => other.name !== self.name)
      .map((other) => `${other.podCidr} ${other.ip}\n`)
      .join('');
  }
  const script = [
    'set -eu',
    'b=/bin/busybox',
    'for plugin in bridge host-local loopback; do $b cp /cni/$plugin /host/opt/cni/bin/.$plugin && $b mv /host/opt/cni/bin/.$plugin /host/opt/cni/bin/$plugin; done',
    'while read -r subnet via; do $b ip route replace "$subnet" via "$via"; done < "/config/$NODE_NAME.routes"',
    '$b cp "/config/$NODE_NAME.conflist" /host/etc/cni/net.d/.10-e2e.conflist && $b mv /host/etc/cni/net.d/.10-e2e.conflist /host/etc/cni/net.d/10-e2e.conflist',
    'exec $b sleep 2147483647',
  ].join('\n');
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'e2e-cni', namespace: 'kube-system' }, data },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'e2e-cni', namespace: 'kube-system' },
      spec: {
        selector: { matchLabels: { app: 'e2e-cni' } },
        template: {
          metadata: { labels: { app: 'e2e-cni' } },
          spec: {
            hostNetwork: true,
            tolerations: [{ operator: 'Exists' }],
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'install',
                image: CNI_IMAGE,
                imagePullPolicy: 'Never',
                command: ['/bin/busybox', 'sh', '-c', script],
                env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
                securityContext: { capabilities: { add: ['NET_ADMIN'] } },
                volumeMounts: [
                  { name: 'bin', mountPath: '/host/opt/cni/bin' },
                  { name: 'conf', mountPath: '/host/etc/cni/net.d' },
                  { name: 'config', mountPath: '/config' },
                ],
              },
            ],
            volumes: [
              { name: 'bin', hostPath: { path: '/opt/cni/bin', type: 'DirectoryOrCreate' } },
              { name: 'conf', hostPath: { path: '/etc/cni/net.d', type: 'DirectoryOrCreate' } },
              { name: 'config', configMap: { name: 'e2e-cni' } },
            ],
          },
        },
      },
    },
  ];
}

if (skip) it('a cluster with networking.cni: none takes a CNI the user installs', { skip }, () => undefined);
else
  describe('a cluster with networking.cni: none takes a CNI the user installs', () => {
    let kubeconfig: string;
    let upOutput: string;
    let upSeconds: number;
    const nodes: Array<{ name: string; podCidr: string; ip: string }> = [];

    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const result = await run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
      return result.stdout.trim();
    };
    const apply = (...objects: object[]): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

    before(async () => {
      kubeconfig = join(await tempDir('kiab-nocni-'), 'config');
      const env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiab(['delete', CLUSTER], { env });
      await buildCniImage();
      const dir = await tempDir('kiab-nocni-');
      await writeFile(join(dir, 'kiab.yaml'), `name: ${CLUSTER}\nnetworking:\n  cni: none\n`);
      const started = Date.now();
      // The storage addon: applied by up, started only once the CNI runs.
      const up = await kiab(['up', '--config', join(dir, 'kiab.yaml'), '--workers', '1', '--addons', 'storage', '--no-snapshot', '--wait', '8m'], { env });
      upSeconds = (Date.now() - started) / 1000;
      assert.equal(up.code, 0, up.stderr);
      upOutput = `${up.stdout}\n${up.stderr}`;
      for (const line of (
        await kubectl([
          'get',
          'nodes',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}',
        ])
      ).split('\n')) {
        const [name, podCidr, ip] = line.split(' ') as [string, string, string];
        nodes.push({ name, podCidr, ip });
      }
    });

    after(async () => {
      await kiab(['delete', CLUSTER]);
    });

    it("returns with the nodes registered, saying in one line that they wait for a CNI and each one's pod subnet", async (t) => {
      t.diagnostic(`up took ${upSeconds.toFixed(1)} s`);
      const line = upOutput.split('\n').find((text) => text.includes('networking.cni: none'));
      assert.ok(line, upOutput);
      t.diagnostic(line);
      assert.match(line, new RegExp(`the nodes wait for a CNI; pod subnets: .*${node('server', 0)} 10\\.244\\.0\\.0/24`));
      assert.match(line, new RegExp(`${node('worker', 0)} 10\\.244\\.50\\.0/24`));
      assert.match(upOutput, /addons storage applied, not waited for/);
      assert.deepEqual(nodes.map((entry) => `${entry.name} ${entry.podCidr}`).sort(), [
        `${node('server', 0)} 10.244.0.0/24`,
        `${node('worker', 0)} 10.244.50.0/24`,
      ]);
      const ready = await kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {end}']);
      assert.deepEqual(ready.trim().split(' '), ['False', 'False']);
      // kiab's own network is not there: no CNI configuration, no policy controller.
      assert.equal((await run('docker', ['exec', node('worker', 0), 'ls', '/etc/cni/net.d'])).stdout.trim(), '');
      assert.equal(await kubectl(['-n', 'kube-system', 'get', 'daemonset', '-o', 'name']), '');
    });

    it('makes the nodes Ready once a DaemonSet installs bridge + host-local built from containernetworking/plugins', async (t) => {
      const load = await kiab(['image', 'load', '--cluster', CLUSTER, CNI_IMAGE]);
      assert.equal(load.code, 0, load.stderr);
      const started = Date.now();
      await apply(...cniObjects(nodes));
      await kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=180s']);
      t.diagnostic(`nodes Ready ${((Date.now() - started) / 1000).toFixed(1)} s after the DaemonSet was applied`);
      // The plugins containerd runs are the ones built here, not the machine's Debian ones.
      const version = await run('docker', ['exec', node('worker', 0), '/opt/cni/bin/bridge', '--version']);
      assert.match(version.stdout + version.stderr, /CNI bridge plugin v1\.10\.0/);
    });

    it('carries a connection from a pod on the worker to a pod on the server', async (t) => {
      const load = await kiab(['image', 'load', '--cluster', CLUSTER, '--archive', AGNHOST_ARCHIVE]);
      assert.equal(load.code, 0, load.stderr);
      const pod = (name: string, on: string, args: string[]): object => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          nodeName: on,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'agnhost', image: AGNHOST, imagePullPolicy: 'Never', args }],
        },
      });
      await apply(pod('server', node('server', 0), ['netexec', '--http-port=8080']), pod('client', node('worker', 0), ['pause']));
      await kubectl(['wait', '--for=condition=Ready', 'pod', 'server', 'client', '--timeout=180s']);
      const serverIp = await kubectl(['get', 'pod', 'server', '-o', 'jsonpath={.status.podIP}']);
      const clientIp = await kubectl(['get', 'pod', 'client', '-o', 'jsonpath={.status.podIP}']);
      t.diagnostic(`server ${serverIp} on ${node('server', 0)}, client ${clientIp} on ${node('worker', 0)}`);
      assert.match(serverIp, /^10\.244\.0\./);
      assert.match(clientIp, /^10\.244\.50\./);
      // agnhost connect exits 0 only once the connection opened; kubectl then does too.
      await kubectl(['exec', 'client', '--', '/agnhost', 'connect', '--timeout=5s', `${serverIp}:8080`]);
    });

    it('lets the storage addon and CoreDNS start once the pod network runs', async () => {
      await kubectl(['-n', 'kube-system', 'wait', '--for=condition=Ready', 'pod', '-l', 'k8s-app=kube-dns', '--timeout=180s']);
      await kubectl(['-n', 'local-path-storage', 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=180s']);
    });
  });
