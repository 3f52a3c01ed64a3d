// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, eventually, httpGet, kiab, labelledObjects, tempDir } from './helpers.js';
import { AGNHOST, AGNHOST_ARCHIVE, agnhostSkip, kubectlWith } from './kubeadm-cache.js';

/** On an engine others test on too, KIAB_E2E_PREFIX keeps this suite's clusters apart from theirs (e.g. `me-`). */
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';

const jsonpathLines = (text: string): string[][] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ').filter(Boolean));

/**
 * A 1+1 cluster of the family, with agnhost serving its hostname on the worker behind a Service of `policy`;
 * each check reaches the Service from the server machine, so every answer crosses from one machine to the other.
 * With `addons`, the Service is a LoadBalancer and an Ingress leads to it.
 */
function familyCluster(family: 'dual' | 'ipv6', policy: 'RequireDualStack' | 'SingleStack', addons?: string[]) {
  const cluster = `${PREFIX}e2e-${family}`;
  const names = { server: `kiab-${cluster}-server-0`, worker: `kiab-${cluster}-worker-0` };
  let kubeconfig = '';
  let env: NodeJS.ProcessEnv = {};

  const kubectl = (args: string[], input?: string): Promise<string> => kubectlWith(kubeconfig, args, input === undefined ? {} : { input });
  /** Each node's Ready status, then its InternalIP addresses. */
  const readyAndAddresses = async (): Promise<string[][]> =>
    jsonpathLines(
      await kubectl([
        'get',
        'nodes',
        '-o',
        'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {range .status.addresses[?(@.type=="InternalIP")]}{.address} {end}{"\\n"}{end}',
      ]),
    );
  /**
   * What an HTTP GET of /hostname at `address` answers, asked from the server machine: once kube-proxy has the
   * ready pod as the Service's endpoint, which it programs within a second or two of the pod being ready.
   */
  const hostnameAt = async (address: string, port = 80): Promise<string> => {
    const host = isIPv6(address) ? `[${address}]` : address;
    return eventually(() => docker(['exec', names.server, 'curl', '-sS', '--max-time', '5', '-g', `http://${host}:${port}/hostname`]));
  };

  before(async () => {
    const directory = await tempDir(`kiab-${family}-`);
    kubeconfig = join(directory, 'config');
    env = { ...process.env, KUBECONFIG: kubeconfig };
    const file = join(directory, 'kiab.yaml');
    await writeFile(file, `name: ${cluster}\nnetworking:\n  ipFamily: ${family}\n`);
    await kiab(['delete', cluster], { env });
    const addonArgs = addons ? ['--addons', addons.join(',')] : ['--no-addons'];
    const up = await kiab(['up', '--config', file, '--workers', '1', ...addonArgs, '--no-snapshot', '--wait', '8m'], { env });
    assert.equal(up.code, 0, up.stderr);
    const load = await kiab(['image', 'load', '--cluster', cluster, '--archive', AGNHOST_ARCHIVE]);
    assert.equal(load.code, 0, load.stderr);
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'server', labels: { app: 'server' } },
            spec: {
              terminationGracePeriodSeconds: 0,
              containers: [{ name: 'agnhost', image: AGNHOST, imagePullPolicy: 'Never', args: ['netexec', '--http-port=8080'] }],
            },
          },
          // A client on the server machine: NetworkPolicy judges pods' traffic, not the machine's own.
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'client' },
            spec: {
              nodeName: names.server,
              tolerations: [{ operator: 'Exists' }],
              terminationGracePeriodSeconds: 0,
              containers: [{ name: 'agnhost', image: AGNHOST, imagePullPolicy: 'Never', args: ['pause'] }],
            },
          },
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'server' },
            spec: {
              type: addons ? 'LoadBalancer' : 'NodePort',
              ipFamilyPolicy: policy,
              selector: { app: 'server' },
              ports: [{ port: 80, targetPort: 8080 }],
            },
          },
          ...(addons
            ? [
                {
                  apiVersion: 'networking.k8s.io/v1',
                  kind: 'Ingress',
                  metadata: { name: 'server' },
                  spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'server', port: { number: 80 } } } }] } }] },
                },
              ]
            : []),
        ],
      }),
    );
    await kubectl(['wait', '--for=condition=Ready', 'pod/server', 'pod/client', '--timeout=180s']);
  });

  after(async () => {
    await kiab(['delete', cluster], { env });
    assert.deepEqual(await labelledObjects(cluster), { containers: [], networks: [], volumes: [] });
  });

  return { kubectl, hostnameAt, readyAndAddresses, cluster };
}

if (agnhostSkip) it('clusters of each IP family', { skip: agnhostSkip }, () => undefined);
else {
  describe('a dual-stack cluster (networking.ipFamily: dual)', () => {
    const { kubectl, hostnameAt, readyAndAddresses, cluster } = familyCluster('dual', 'RequireDualStack');

    it('has Ready nodes with an IPv4 and an IPv6 address each, and pods with both', async () => {
      const nodes = await readyAndAddresses();
      assert.equal(nodes.length, 2);
      for (const [ready, ...addresses] of nodes) {
        assert.equal(ready, 'True');
        assert.deepEqual(
          addresses.map((address) => (isIPv4(address) ? 4 : isIPv6(address) ? 6 : address)),
          [4, 6],
          addresses.join(' '),
        );
      }
      const podIps = (await kubectl(['get', 'pod', 'server', '-o', 'jsonpath={range .status.podIPs[*]}{.ip} {end}'])).split(' ');
      assert.deepEqual(
        podIps.map((address) => (isIPv4(address) ? 4 : isIPv6(address) ? 6 : address)),
        [4, 6],
        podIps.join(' '),
      );
      assert.ok(podIps[1]!.startsWith('fd00:10:244:32:'), `the worker's IPv6 pod /64: ${podIps[1]}`);
    });

    it('gives a RequireDualStack Service two cluster IPs, and each answers from the pod on the other machine', async (t) => {
      const clusterIps = (await kubectl(['get', 'service', 'server', '-o', 'jsonpath={.spec.clusterIPs[*]}'])).split(' ');
      t.diagnostic(`cluster IPs: ${clusterIps.join(', ')}`);
      assert.equal(clusterIps.length, 2);
      assert.ok(isIPv4(clusterIps[0]!) && clusterIps[0]!.startsWith('10.96.'), clusterIps[0]);
      assert.ok(isIPv6(clusterIps[1]!) && clusterIps[1]!.startsWith('fd00:10:96::'), clusterIps[1]);
      for (const address of clusterIps) assert.equal(await hostnameAt(address), 'server', address);
      // Straight to the pod's IPv6 address too: the route to the worker's /64 goes by the worker's IPv6 address.
      const podIpv6 = await kubectl(['get', 'pod', 'server', '-o', 'jsonpath={.status.podIPs[1].ip}']);
      assert.equal(await hostnameAt(podIpv6, 8080), 'server');
    });

    it("enforces NetworkPolicy on IPv6: a default-deny ingress policy blocks the client pod at the server pod's IPv6 address, and its removal lets it in", async () => {
      const podIpv6 = await kubectl(['get', 'pod', 'server', '-o', 'jsonpath={.status.podIPs[1].ip}']);
      const fromClient = (): Promise<string> => kubectl(['exec', 'client', '--', 'curl', '-sS', '--max-time', '2', '-g', `http://[${podIpv6}]:8080/hostname`]);
      assert.equal(await eventually(fromClient), 'server', 'open before any policy');
      const deny = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'deny' },
        spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'] },
      };
      await kubectl(['apply', '-f', '-'], JSON.stringify(deny));
      await eventually(async () => {
        const answer = await fromClient().catch((error: Error) => error.message);
        assert.match(answer, /timed out|exit code 28/, 'still let through');
      });
      await kubectl(['delete', 'networkpolicy', 'deny']);
      assert.equal(await eventually(fromClient), 'server', 'open again once the policy is gone');
    });

    it('answers AAAA and A queries for the Service with its two cluster IPs (CoreDNS)', async () => {
      const clusterIps = (await kubectl(['get', 'service', 'server', '-o', 'jsonpath={.spec.clusterIPs[*]}'])).split(' ');
      for (const [type, address] of [
        ['A', clusterIps[0]],
        ['AAAA', clusterIps[1]],
      ] as const)
        assert.equal(await kubectl(['exec', 'server', '--', 'dig', '+short', type, 'server.default.svc.cluster.local']), address, type);
    });

    it("reaches the Service's NodePort from the host through the box at its IPv4 and its IPv6 address", async (t) => {
      const nodePort = await kubectl(['get', 'service', 'server', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
      const addresses = await docker([
        'inspect',
        `kiab-${cluster}-box`,
        '--format',
        '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}',
      ]);
      const [ipv4, ipv6] = addresses.split(' ');
      t.diagnostic(`box: ${addresses}, NodePort ${nodePort}`);
      assert.ok(ipv4 && isIPv4(ipv4) && ipv6 && isIPv6(ipv6), addresses);
      for (const host of [ipv4, `[${ipv6}]`])
        assert.equal(await eventually(async () => (await httpGet(`http://${host}:${nodePort}/hostname`)).body), 'server', host);
    });
  });

  describe('an IPv6-only cluster (networking.ipFamily: ipv6)', () => {
    const { kubectl, hostnameAt, readyAndAddresses, cluster } = familyCluster('ipv6', 'SingleStack', ['ingress', 'loadbalancer']);

    it('has Ready nodes whose only Kubernetes address is IPv6, and Services in the IPv6 range', async () => {
      const nodes = await readyAndAddresses();
      assert.equal(nodes.length, 2);
      for (const [ready, ...addresses] of nodes) {
        assert.equal(ready, 'True');
        assert.equal(addresses.length, 1, addresses.join(' '));
        assert.ok(isIPv6(addresses[0]!), addresses[0]);
      }
      assert.equal(await kubectl(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']), 'fd00:10:96::1');
    });

    it('serves a pod on the worker through its IPv6 Service, reached from the server machine', async () => {
      const clusterIp = await kubectl(['get', 'service', 'server', '-o', 'jsonpath={.spec.clusterIP}']);
      assert.ok(isIPv6(clusterIp) && clusterIp.startsWith('fd00:10:96::'), clusterIp);
      assert.equal(await hostnameAt(clusterIp), 'server');
    });

    it("reaches the pod from the host through the box's http port (Ingress) and at the LoadBalancer's IPv6 address", async (t) => {
      const status = JSON.parse((await kiab(['status', cluster, '-o', 'json'])).stdout) as { ports: Array<{ name: string; host: string | null }> };
      const http = status.ports.find((port) => port.name === 'http')?.host;
      assert.ok(http, JSON.stringify(status.ports));
      assert.equal(await eventually(async () => (await httpGet(`http://${http}/hostname`)).body), 'server');
      const external = await eventually(async () => {
        const address = await kubectl(['get', 'service', 'server', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
        assert.ok(isIPv6(address), `no IPv6 address yet: "${address}"`);
        return address;
      });
      t.diagnostic(`LoadBalancer address: ${external}`);
      assert.equal(await eventually(async () => (await httpGet(`http://[${external}]/hostname`)).body), 'server');
    });
  });
}
