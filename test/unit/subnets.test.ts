import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { awaitingCniLine, registrationProblem } from '../../src/cluster/kubernetes/api-ready.js';
import { effectiveSpec } from '../../src/cluster/lifecycle/existing.js';
import type { ObservedCluster } from '../../src/cluster/lifecycle/observe.js';
import { rangeClash } from '../../src/cluster/lifecycle/range-preflight.js';
import { UsageError } from '../../src/errors.js';
import { parseRoutes } from '../../src/host/routes.js';
import { cidrProblem, cidrsOverlap, nthSlash24 } from '../../src/net/cidr.js';
import type { NetworkInfo } from '../../src/provider/types.js';
import { parseSpec } from '../../src/spec/load.js';

function refusal(fileText: string): string {
  try {
    parseSpec({ file: 'kiab.yaml', fileText });
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, 2);
    assert.ok(!error.message.includes('\n'));
    return error.message;
  }
  assert.fail('the spec was accepted');
}

const network = (name: string, subnet: string, cluster?: string): NetworkInfo => ({
  id: name,
  name,
  subnet,
  labels: cluster ? { 'dev.kiab.cluster': cluster } : {},
  createdAt: new Date(0),
});

describe('IPv4 ranges', () => {
  it('reads ranges written from their first address and says how to write the others', () => {
    assert.equal(cidrProblem('10.244.0.0/16'), undefined);
    assert.equal(cidrProblem('10.244.3.0/16'), 'is not the start of a /16: write 10.244.0.0/16');
    for (const bad of ['10.244.0.0', '10.244.0.0/33', '10.256.0.0/16', 'fd00::/64', '10.244.0.0/16/1', 'ten/8'])
      assert.match(cidrProblem(bad)!, /must be an IPv4 range/, bad);
  });

  it('carves /24s out of a range, and refuses to step outside it', () => {
    assert.equal(nthSlash24('10.64.0.0/12', 0), '10.64.0.0/24');
    assert.equal(nthSlash24('10.64.0.0/12', 257), '10.65.1.0/24');
    assert.throws(() => nthSlash24('10.244.0.0/16', 256), RangeError);
  });

  it('sees overlap in either direction, and none between neighbours', () => {
    assert.ok(cidrsOverlap('10.0.0.0/8', '10.244.5.0/24'));
    assert.ok(cidrsOverlap('10.244.5.0/24', '10.0.0.0/8'));
    assert.ok(!cidrsOverlap('10.244.0.0/16', '10.245.0.0/16'));
  });
});

describe('pod and service ranges in kiab.yaml', () => {
  it('defaults to none named (kubeadm then uses 10.244.0.0/16 and 10.96.0.0/16) and takes the ones given', () => {
    assert.deepEqual(parseSpec({}).networking, { kubeProxyMode: 'iptables', cni: 'kiab', ipFamily: 'ipv4' });
    const spec = parseSpec({ fileText: 'networking:\n  podSubnet: 10.100.0.0/16\n  serviceSubnet: 10.200.0.0/20\n' });
    assert.equal(spec.networking.podSubnet, '10.100.0.0/16');
    assert.equal(spec.networking.serviceSubnet, '10.200.0.0/20');
  });

  const refused = [
    {
      text: 'podSubnet: 10.100.0.0/20',
      message: /^kiab\.yaml:2:14: networking\.podSubnet: must be a \/8 to a \/16 \(each machine takes a \/24 of it\), not a \/20$/,
    },
    { text: 'podSubnet: 10.100.1.0/16', message: /networking\.podSubnet: is not the start of a \/16: write 10\.100\.0\.0\/16$/ },
    { text: 'serviceSubnet: 10.0.0.0/8', message: /networking\.serviceSubnet: must be a \/12 to a \/28 .*not a \/8$/ },
    { text: 'serviceSubnet: 10.96.0.0', message: /networking\.serviceSubnet: must be an IPv4 range such as 10\.96\.0\.0\/16$/ },
    { text: 'podSubnet: 10.96.0.0/16', message: /networking\.podSubnet: 10\.96\.0\.0\/16 overlaps the service range 10\.96\.0\.0\/16$/ },
    { text: 'serviceSubnet: 10.244.16.0/20', message: /networking\.serviceSubnet: 10\.244\.16\.0\/20 overlaps the pod range 10\.244\.0\.0\/16$/ },
  ];
  for (const { text, message } of refused)
    it(`refuses ${text} by field and line`, () => {
      assert.match(refusal(`networking:\n  ${text}\n`), message);
    });

  it("refuses a range that takes the cluster network's, naming the field to change", () => {
    assert.match(
      refusal('network:\n  subnet: 172.28.9.0/24\nnetworking:\n  podSubnet: 172.28.0.0/16\n'),
      /networking\.podSubnet: 172\.28\.0\.0\/16 overlaps the cluster network 172\.28\.9\.0\/24 \(network\.subnet\)$/,
    );
    assert.match(refusal('network:\n  subnet: 10.96.3.0/24\n'), /network\.subnet: 10\.96\.3\.0\/24 overlaps the default service range 10\.96\.0\.0\/16/);
  });

  it('refuses ranges for distributions that lay out their own', () => {
    assert.match(refusal('distribution: k3s\nnetworking:\n  podSubnet: 10.100.0.0/16\n'), /networking\.podSubnet: only kubeadm clusters choose/);
  });
});

describe("the host's routes", () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'wg0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
    '',
  ].join('\n');

  it('reads /proc/net/route, leaving out the default route', () => {
    assert.deepEqual(parseRoutes(table), [
      { cidr: '172.17.0.0/16', link: 'docker0' },
      { cidr: '192.0.2.0/24', link: 'eth0' },
      { cidr: '10.0.0.0/8', link: 'wg0' },
    ]);
  });

  it('reads an empty or missing table as no routes', () => {
    assert.deepEqual(parseRoutes(''), []);
  });
});

describe('ranges against what the host holds', () => {
  const networks = [network('bridge', '172.17.0.0/16'), network('kiab-web', '172.28.4.0/24', 'web'), { ...network('v6', 'fd00::/64') }];
  const routes = [
    { cidr: '172.17.0.0/16', link: 'docker0' },
    { cidr: '192.168.0.0/16', link: 'wg0' },
  ];
  const pods = (cidr: string) => [{ field: 'networking.podSubnet' as const, cidr }];

  it('names the kiab cluster whose network a range takes', () => {
    assert.deepEqual(rangeClash(pods('172.28.0.0/16'), networks, routes), {
      field: 'networking.podSubnet',
      message: 'networking.podSubnet: 172.28.0.0/16 overlaps the engine network kiab-web (172.28.4.0/24, cluster web)',
    });
  });

  it("names an engine network before the host's route to it", () => {
    assert.match(rangeClash(pods('172.16.0.0/12'), networks, routes)!.message, /the engine network bridge \(172\.17\.0\.0\/16\)$/);
  });

  it("names the host's route and its link", () => {
    assert.deepEqual(rangeClash([{ field: 'networking.serviceSubnet', cidr: '192.168.10.0/24' }], networks, routes), {
      field: 'networking.serviceSubnet',
      message: "networking.serviceSubnet: 192.168.10.0/24 overlaps the host's route to 192.168.0.0/16 (wg0)",
    });
  });

  it('lets a range pass that touches nothing (an IPv6 network shares nothing with it)', () => {
    assert.equal(rangeClash([...pods('10.100.0.0/16'), { field: 'networking.serviceSubnet', cidr: '10.200.0.0/16' }], networks, routes), undefined);
  });
});

describe('networking.cni', () => {
  it("is kiab's own network unless none is asked for, and only kubeadm clusters leave it out", () => {
    assert.equal(parseSpec({}).networking.cni, 'kiab');
    assert.equal(parseSpec({ fileText: 'networking:\n  cni: none\n' }).networking.cni, 'none');
    assert.match(
      refusal('networking:\n  cni: flannel\n'),
      /^kiab\.yaml:2:8: networking\.cni: "flannel" is not a pod network kiab knows; choose kiab \(the default\) or none$/,
    );
    assert.match(
      refusal('distribution: k3s\nnetworking:\n  cni: none\n'),
      /networking\.cni: only kubeadm clusters leave out their pod network \(this one is k3s\)/,
    );
  });
});

describe('a cluster without a pod network is ready once its nodes are registered', () => {
  const machines = [
    { name: 'kiab-dev-server-0', role: 'server' as const, index: 0, ip: '172.28.0.10' },
    { name: 'kiab-dev-worker-0', role: 'worker' as const, index: 0, ip: '172.28.0.50' },
  ];
  const notReadyNode = (name: string, podCIDR?: string): V1Node => ({
    metadata: { name },
    spec: podCIDR ? { podCIDR } : {},
    status: { conditions: [{ type: 'Ready', status: 'False' }] },
  });
  const pod = (name: string, phase: string): V1Pod => ({
    metadata: { name },
    status: { phase, containerStatuses: phase === 'Running' ? [{ name, ready: true, restartCount: 0, image: '', imageID: '' }] : [] },
  });
  const hostPods = ['kube-apiserver', 'etcd'];

  it('waits for a machine that has no node yet', () => {
    assert.equal(registrationProblem([notReadyNode('kiab-dev-server-0')], [], machines, hostPods), 'kiab-dev-worker-0 not registered');
  });

  it('waits for the system pods that need no pod network, and for nothing else (CoreDNS stays Pending)', () => {
    const nodes = machines.map((machine) => notReadyNode(machine.name));
    assert.equal(registrationProblem(nodes, [pod('etcd-kiab-dev-server-0', 'Running')], machines, hostPods), 'waiting for kube-apiserver to run');
    const pods = [pod('etcd-kiab-dev-server-0', 'Running'), pod('kube-apiserver-kiab-dev-server-0', 'Running'), pod('coredns-abc', 'Pending')];
    assert.equal(registrationProblem(nodes, pods, machines, hostPods), undefined);
  });

  it("says in one line that the nodes wait for a CNI, with each node's pod subnet", () => {
    const line = awaitingCniLine([notReadyNode('kiab-dev-server-0', '10.244.0.0/24'), notReadyNode('kiab-dev-worker-0', '10.244.50.0/24')]);
    assert.equal(
      line,
      'no pod network (networking.cni: none): the nodes wait for a CNI; pod subnets: kiab-dev-server-0 10.244.0.0/24, kiab-dev-worker-0 10.244.50.0/24',
    );
  });
});

describe('an existing cluster keeps its pod network', () => {
  const observed = { spec: parseSpec({ fileText: 'networking:\n  podSubnet: 10.100.0.0/16\n' }), machines: [] } as unknown as ObservedCluster;
  const requested = (fileText: string) => parseSpec({ fileText });

  it('refuses other ranges or another pod network by field, and takes the same again', () => {
    assert.throws(
      () => effectiveSpec(requested('networking:\n  podSubnet: 10.101.0.0/16\n'), ['networking.podSubnet'], observed),
      /networking\.podSubnet: cluster kiab was made with 10\.100\.0\.0\/16, and up cannot change it to 10\.101\.0\.0\/16$/,
    );
    assert.throws(
      () => effectiveSpec(requested('networking:\n  serviceSubnet: 10.200.0.0/16\n'), ['networking.serviceSubnet'], observed),
      /networking\.serviceSubnet: cluster kiab was made with the default/,
    );
    assert.throws(
      () => effectiveSpec(requested('networking:\n  cni: none\n'), ['networking.cni'], observed),
      /networking\.cni: cluster kiab was made with kiab/,
    );
    assert.equal(
      effectiveSpec(requested('networking:\n  podSubnet: 10.100.0.0/16\n'), ['networking.podSubnet'], observed).networking.podSubnet,
      '10.100.0.0/16',
    );
  });
});
