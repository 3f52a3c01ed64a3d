// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, kiab, labelledObjects, run, tempDir } from './helpers.js';
import { AGNHOST, AGNHOST_ARCHIVE, agnhostSkip, KUBEADM_KUBECTL as KUBECTL } from './kubeadm-cache.js';

/** On an engine others test on too, KIAB_E2E_PREFIX keeps this suite's clusters apart from theirs (e.g. `me-`). */
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';
const CLUSTER = `${PREFIX}e2e-net-ranges`;
const REFUSED = `${PREFIX}e2e-net-refused`;
const PODS = '10.100.0.0/16';
const SERVICES = '10.200.0.0/20';

const skip = agnhostSkip;

const inRange = (address: string, prefix: string): boolean => address.startsWith(prefix);

/** Writes a kiab.yaml for a cluster and returns its path. */
async function config(name: string, networking: Record<string, string>): Promise<string> {
  const path = join(await tempDir('kiab-ranges-'), 'kiab.yaml');
  await writeFile(
    path,
    `name: ${name}\nnetworking:\n${Object.entries(networking)
      .map(([key, value]) => `  ${key}: ${value}\n`)
      .join('')}`,
  );
  return path;
}

describe('pod and service ranges that the host already holds are refused before anything is made', () => {
  after(async () => {
    await kiab(['delete', REFUSED]);
  });

  const refusedUp = async (networking: Record<string, string>): Promise<string> => {
    const up = await kiab(['up', '--config', await config(REFUSED, networking), '--workers', '1', '--no-addons', '--no-snapshot']);
    assert.equal(up.code, 1, up.stderr);
    assert.deepEqual(await labelledObjects(REFUSED), { containers: [], networks: [], volumes: [] });
    return up.stderr.split('\n')[0]!;
  };

  it("refuses a service range over an engine network, naming the field and the network's range", async (t) => {
    const subnet = await docker(['network', 'inspect', 'bridge', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}']);
    const bridge = subnet.split(' ').find((cidr) => cidr.includes('.'));
    assert.ok(bridge, `the engine's bridge network has no IPv4 range: ${subnet}`);
    const line = await refusedUp({ serviceSubnet: bridge });
    t.diagnostic(line);
    assert.match(line, new RegExp(`networking\\.serviceSubnet: ${bridge.replace(/\./g, '\\.')} overlaps the engine network bridge \\(`));
  });

  it("refuses a pod range over a route of the host, naming the route's range and link", async (t) => {
    // A route of the host's own links (not an engine's bridge, which the network case covers).
    const routes = (await run('ip', ['-4', '-o', 'route', 'show', 'scope', 'link'])).stdout.split('\n');
    const found = routes.map((line) => /^(\d+\.\d+)\.\d+\.\d+\/(\d+) dev (\S+)/.exec(line)).find((match) => match && !/^(docker|br-)/.test(match[3]!));
    if (!found) return t.skip('the host has no route of its own links beside the default');
    const line = await refusedUp({ podSubnet: `${found[1]}.0.0/16` });
    t.diagnostic(line);
    assert.match(line, new RegExp(`networking\\.podSubnet: ${found[1]!.replace('.', '\\.')}\\.0\\.0/16 overlaps the host's route to .* \\(${found[3]}\\)`));
  });
});

if (skip) it('a cluster on pod and service ranges of its own', { skip }, () => undefined);
else
  describe(`a cluster on pod range ${PODS} and service range ${SERVICES}`, () => {
    let kubeconfig: string;
    let env: NodeJS.ProcessEnv;
    let upSeconds: number;

    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const result = await run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
      return result.stdout.trim();
    };
    const inPod = (command: string[]): Promise<string> => kubectl(['exec', 'client', '--', ...command]);

    before(async () => {
      kubeconfig = join(await tempDir('kiab-ranges-'), 'config');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiab(['delete', CLUSTER], { env });
      const started = Date.now();
      const up = await kiab(
        [
          'up',
          '--config',
          await config(CLUSTER, { podSubnet: PODS, serviceSubnet: SERVICES }),
          '--workers',
          '1',
          '--no-addons',
          '--no-snapshot',
          '--wait',
          '8m',
        ],
        { env },
      );
      assert.equal(up.code, 0, up.stderr);
      upSeconds = (Date.now() - started) / 1000;
      const load = await kiab(['image', 'load', '--cluster', CLUSTER, '--archive', AGNHOST_ARCHIVE]);
      assert.equal(load.code, 0, load.stderr);
      const pod = (name: string, args: string[]): object => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'agnhost', image: AGNHOST, imagePullPolicy: 'Never', args }],
        },
      });
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            pod('server', ['netexec', '--http-port=8080']),
            pod('client', ['pause']),
            { apiVersion: 'v1', kind: 'Service', metadata: { name: 'server' }, spec: { selector: { app: 'server' }, ports: [{ port: 80, targetPort: 8080 }] } },
          ],
        }),
      );
      await kubectl(['wait', '--for=condition=Ready', 'pod', '--all', '--timeout=180s']);
    });

    after(async () => {
      await kiab(['delete', CLUSTER], { env });
    });

    it("gives pods addresses in the pod range, on their machine's /24 of it", async (t) => {
      t.diagnostic(`up took ${upSeconds.toFixed(1)} s`);
      const listed = await kubectl(['get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.podIP} {.spec.hostNetwork}{"\\n"}{end}']);
      // The control plane's static pods share their machine's address: only the pod network's pods count.
      const pods = listed.split('\n').filter((line) => !line.endsWith(' true'));
      // The test pods and CoreDNS: at least three.
      assert.ok(pods.length >= 3, pods.join(', '));
      for (const line of pods) {
        const [node, ip] = line.split(' ') as [string, string];
        t.diagnostic(`${node}: ${ip}`);
        assert.ok(inRange(ip, node.endsWith('worker-0') ? '10.100.50.' : '10.100.0.'), `${node}: ${ip}`);
      }
    });

    it('gives Services cluster IPs in the service range, CoreDNS its 10th address', async () => {
      assert.ok(inRange(await kubectl(['get', 'service', 'server', '-o', 'jsonpath={.spec.clusterIP}']), '10.200.'));
      assert.equal(await kubectl(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']), '10.200.0.1');
      assert.equal(await kubectl(['-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}']), '10.200.0.10');
    });

    it('resolves names through the DNS Service at that address and reaches a Service by name', async () => {
      assert.match(await inPod(['cat', '/etc/resolv.conf']), /^nameserver 10\.200\.0\.10$/m);
      const serviceIp = await kubectl(['get', 'service', 'server', '-o', 'jsonpath={.spec.clusterIP}']);
      assert.equal(await inPod(['dig', '+time=2', '+tries=2', '+short', 'server.default.svc.cluster.local']), serviceIp);
      assert.equal(await inPod(['dig', '+time=2', '+tries=2', '+short', 'kubernetes.default.svc.cluster.local']), '10.200.0.1');
      assert.equal(await inPod(['/agnhost', 'connect', '--timeout=5s', 'server:80']), '');
    });

    it('masquerades only what leaves the pod range and refuses what kube-proxy left untranslated in the service range', async () => {
      const rules = (await run('docker', ['exec', `kiab-${CLUSTER}-worker-0`, 'iptables-save'])).stdout;
      assert.match(rules, new RegExp(`-A POSTROUTING -s ${PODS} ! -d ${PODS} -j MASQUERADE`));
      assert.match(rules, new RegExp(`-A FORWARD -d ${SERVICES} -j REJECT`));
      assert.doesNotMatch(rules, /10\.244\.0\.0\/16|10\.96\.0\.0\/16/);
    });
  });
