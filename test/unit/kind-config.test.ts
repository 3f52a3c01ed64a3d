import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { parseSpecSource } from '../../src/spec/load.js';

const HEADER = 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n';

/** Loads a kind config as `up --config` does, from /work as the directory kiab runs in. */
const load = (body: string, header = HEADER) => parseSpecSource({ file: 'kind.yaml', fileText: header + body, cwd: '/work' });

function refusal(body: string, header?: string): string {
  try {
    load(body, header);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail('the config was accepted');
}

/**
 * The kinds of config kind's user guide shows (configuration, ingress, local registry, feature gates), written
 * here afresh: each converted with kind's meaning, or refused by the path of the field kiab cannot honour.
 */
const CONVERTED: Array<{ name: string; body: string; check: (spec: ReturnType<typeof load>['spec']) => void }> = [
  {
    name: 'the minimal config: one control-plane node',
    body: '',
    check: (spec) => {
      assert.equal(spec.servers, 1);
      assert.equal(spec.workers, 0);
      assert.equal(spec.distribution, 'kubeadm');
      assert.deepEqual(spec.addons, ['storage']);
    },
  },
  {
    name: "kind's node images: the control plane's release is the cluster's, a worker's its own",
    body:
      'nodes:\n- role: control-plane\n  image: kindest/node:v1.36.1\n- role: worker\n  image: kindest/node:v1.34.0@sha256:' +
      'a'.repeat(64) +
      '\n- role: worker\n',
    check: (spec) => {
      assert.equal(spec.kubernetesVersion, '1.36');
      assert.deepEqual(
        spec.nodes.map((node) => node.kubernetesVersion),
        ['1.36', '1.34', undefined],
      );
    },
  },
  {
    name: 'a named cluster',
    body: 'name: app-1-cluster\n',
    check: (spec) => assert.equal(spec.name, 'app-1-cluster'),
  },
  {
    name: 'one control plane and two workers, by role only',
    body: 'nodes:\n- role: control-plane\n- role: worker\n- role: worker\n',
    check: (spec) => {
      assert.equal(spec.servers, 1);
      assert.equal(spec.workers, 2);
      assert.deepEqual(spec.nodes, []);
    },
  },
  {
    name: 'three control planes and three workers',
    body: 'nodes:\n- role: control-plane\n- role: control-plane\n- role: control-plane\n- role: worker\n- role: worker\n- role: worker\n',
    check: (spec) => assert.deepEqual([spec.servers, spec.workers], [3, 3]),
  },
  {
    name: 'feature gates and runtime config, cluster-wide',
    body: 'featureGates:\n  InPlacePodVerticalScaling: true\nruntimeConfig:\n  api/alpha: "false"\n',
    check: (spec) => {
      assert.deepEqual(spec.featureGates, { InPlacePodVerticalScaling: true });
      assert.deepEqual(spec.runtimeConfig, { 'api/alpha': 'false' });
    },
  },
  {
    name: 'the API server on a fixed address and port',
    body: 'networking:\n  apiServerAddress: 127.0.0.1\n  apiServerPort: 6443\n',
    check: (spec) => {
      assert.equal(spec.ports.api, 6443);
      assert.equal(spec.ports.address, '127.0.0.1');
    },
  },
  {
    name: 'kube-proxy in nftables mode',
    body: 'networking:\n  kubeProxyMode: nftables\n',
    check: (spec) => assert.equal(spec.networking.kubeProxyMode, 'nftables'),
  },
  {
    name: 'pod and service subnets',
    body: 'networking:\n  podSubnet: "10.100.0.0/16"\n  serviceSubnet: "10.200.0.0/16"\n',
    check: (spec) => {
      assert.equal(spec.networking.podSubnet, '10.100.0.0/16');
      assert.equal(spec.networking.serviceSubnet, '10.200.0.0/16');
    },
  },
  {
    name: 'an IPv6-only cluster',
    body: 'networking:\n  ipFamily: ipv6\n',
    check: (spec) => assert.equal(spec.networking.ipFamily, 'ipv6'),
  },
  {
    name: 'a dual-stack cluster',
    body: 'networking:\n  ipFamily: dual\n',
    check: (spec) => assert.equal(spec.networking.ipFamily, 'dual'),
  },
  {
    name: 'no default CNI',
    body: 'networking:\n  disableDefaultCNI: true\n',
    check: (spec) => assert.equal(spec.networking.cni, 'none'),
  },
  {
    name: "kind's own network defaults, written out",
    body: 'networking:\n  ipFamily: ipv4\n  kubeProxyMode: iptables\n  disableDefaultCNI: false\n',
    check: (spec) => assert.equal(spec.servers, 1),
  },
  {
    name: 'an ingress-ready control plane: a kubelet label by patch, ports 80 and 443 mapped',
    body: [
      'nodes:',
      '- role: control-plane',
      '  kubeadmConfigPatches:',
      '  - |',
      '    kind: InitConfiguration',
      '    nodeRegistration:',
      '      kubeletExtraArgs:',
      '        node-labels: "ingress-ready=true"',
      '  extraPortMappings:',
      '  - containerPort: 80',
      '    hostPort: 8080',
      '    protocol: TCP',
      '  - containerPort: 443',
      '    hostPort: 8443',
      '    listenAddress: 0.0.0.0',
      '',
    ].join('\n'),
    check: (spec) => {
      const [node] = spec.nodes;
      assert.equal(node?.role, 'server');
      assert.equal(node?.kubeadmConfigPatches.length, 1);
      assert.deepEqual(node?.portMappings, [
        { machinePort: 80, hostPort: 8080, protocol: 'TCP', listenAddress: '127.0.0.1' },
        { machinePort: 443, hostPort: 8443, protocol: 'TCP', listenAddress: '0.0.0.0' },
      ]);
    },
  },
  {
    name: 'a worker with labels and a host folder, relative to where kiab runs',
    body: 'nodes:\n- role: control-plane\n- role: worker\n  labels:\n    tier: frontend\n  extraMounts:\n  - hostPath: ./src\n    containerPath: /src\n    readOnly: true\n    propagation: HostToContainer\n',
    check: (spec) => {
      assert.deepEqual(spec.nodes[1]?.labels, { tier: 'frontend' });
      assert.deepEqual(spec.nodes[1]?.mounts, [{ hostPath: '/work/src', machinePath: '/src', readOnly: true, propagation: 'HostToContainer' }]);
      assert.deepEqual([spec.servers, spec.workers], [1, 1]);
    },
  },
  {
    name: 'a cluster-wide merge patch and a JSON 6902 patch of the ClusterConfiguration',
    body: [
      'kubeadmConfigPatches:',
      '- |',
      '  kind: ClusterConfiguration',
      '  apiServer:',
      '    extraArgs:',
      '      enable-admission-plugins: NodeRestriction',
      'kubeadmConfigPatchesJSON6902:',
      '- group: kubeadm.k8s.io',
      '  version: v1beta4',
      '  kind: ClusterConfiguration',
      '  patch: |',
      '    - op: add',
      '      path: /apiServer/certSANs/-',
      '      value: my-hostname',
      '',
    ].join('\n'),
    check: (spec) => {
      assert.equal(spec.kubeadmConfigPatches?.length, 1);
      assert.equal(spec.kubeadmConfigPatchesJSON6902?.[0]?.kind, 'ClusterConfiguration');
    },
  },
  {
    name: 'a containerd patch (the local registry recipe points containerd at hosts.toml files)',
    body: 'containerdConfigPatches:\n- |-\n  [plugins."io.containerd.grpc.v1.cri".registry]\n    config_path = "/etc/containerd/certs.d"\n',
    check: (spec) => assert.equal(spec.containerdConfigPatches?.length, 1),
  },
];

const REFUSED: Array<{ name: string; body: string; header?: string; message: RegExp }> = [
  {
    name: 'a field kind does not have',
    body: 'nodes:\n- role: worker\n  extraThings: 1\n',
    message: /^kind\.yaml:\d+:\d+: nodes\.0\.extraThings: unknown field/,
  },
  {
    name: 'another config version',
    body: '',
    header: 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n',
    message: /apiVersion: "kind\.x-k8s\.io\/v1alpha3"/,
  },
  {
    name: "a node image other than kind's (kiab's machines run their own)",
    body: 'nodes:\n- role: control-plane\n  image: example.com/team/node:latest\n',
    message: /nodes\.0\.image: .*kindest\/node/,
  },
  { name: 'an IP family kind does not have', body: 'networking:\n  ipFamily: ipv5\n', message: /networking\.ipFamily: "ipv5" is not an IP family/ },
  {
    name: 'an IPv4 pod subnet in an IPv6-only cluster',
    body: 'networking:\n  ipFamily: ipv6\n  podSubnet: "10.244.0.0/16"\n',
    message: /networking\.podSubnet: is an IPv4 range, and this cluster is IPv6 only/,
  },
  { name: 'a pod subnet narrower than a /16', body: 'networking:\n  podSubnet: "10.244.0.0/20"\n', message: /networking\.podSubnet: must be a \/8 to a \/16/ },
  {
    name: 'a service subnet inside the pod subnet',
    body: 'networking:\n  podSubnet: "10.0.0.0/8"\n  serviceSubnet: "10.96.0.0/12"\n',
    message: /^kind\.yaml:5:\d+: networking\.serviceSubnet: 10\.96\.0\.0\/12 overlaps the pod range 10\.0\.0\.0\/8$/,
  },
  {
    name: 'a default CNI switch that is not a boolean',
    body: 'networking:\n  disableDefaultCNI: "yes"\n',
    message: /networking\.disableDefaultCNI: must be true or false/,
  },
  { name: 'a kube-proxy mode kind does not have', body: 'networking:\n  kubeProxyMode: userspace\n', message: /networking\.kubeProxyMode/ },
  { name: 'DNS search domains', body: 'networking:\n  dnsSearch: []\n', message: /networking\.dnsSearch/ },
  {
    name: 'an SCTP mapping',
    body: 'nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 80\n    protocol: SCTP\n',
    message: /nodes\.0\.extraPortMappings\.0\.protocol/,
  },
  {
    name: 'a random host port',
    body: 'nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n',
    message: /nodes\.0\.extraPortMappings\.0\.hostPort/,
  },
  {
    name: 'SELinux relabelling',
    body: 'nodes:\n- role: worker\n  extraMounts:\n  - hostPath: /tmp\n    containerPath: /tmp\n    selinuxRelabel: true\n',
    message: /extraMounts\.0\.selinuxRelabel/,
  },
  { name: 'a containerd JSON 6902 patch', body: 'containerdConfigPatchesJSON6902:\n- "[]"\n', message: /containerdConfigPatchesJSON6902/ },
  {
    name: 'a per-node JSON 6902 patch',
    body: 'nodes:\n- role: control-plane\n  kubeadmConfigPatchesJSON6902: []\n',
    message: /nodes\.0\.kubeadmConfigPatchesJSON6902/,
  },
  { name: 'an unknown role', body: 'nodes:\n- role: master\n', message: /nodes\.0\.role: "master"/ },
  {
    name: 'a bad value, by its kind path',
    body: 'nodes:\n- role: worker\n  extraMounts:\n  - hostPath: /tmp\n    containerPath: relative\n',
    message: /nodes\.0\.extraMounts\.0\.containerPath: must be an absolute path/,
  },
  { name: 'containerd TOML that does not parse', body: 'containerdConfigPatches:\n- "[plugins"\n', message: /containerdConfigPatches\.0: invalid TOML/ },
];

describe('kind configs (kind.x-k8s.io/v1alpha4) as kiab reads them', () => {
  for (const example of CONVERTED) it(`converts ${example.name}`, () => example.check(load(example.body).spec));
  for (const example of REFUSED) it(`refuses ${example.name}, by its field`, () => assert.match(refusal(example.body, example.header), example.message));

  it('lets flags win over the file, as kind lets its flags', () => {
    const { spec } = parseSpecSource({ file: 'kind.yaml', fileText: `${HEADER}name: from-file\n`, flags: { name: 'from-flag', addons: [] } });
    assert.equal(spec.name, 'from-flag');
    assert.deepEqual(spec.addons, []);
  });
});

describe('nodes and the servers/workers counts', () => {
  const parse = (text: string) => parseSpecSource({ fileText: text }).spec;

  it('counts the listed nodes when no counts are given', () => {
    const spec = parse('nodes:\n- role: server\n- role: worker\n  labels: {a: b}\n- role: worker\n');
    assert.deepEqual([spec.servers, spec.workers], [1, 2]);
  });

  it('lets counts ask for more machines than are listed', () => {
    const spec = parse('workers: 3\nnodes:\n- role: worker\n  labels: {a: b}\n');
    assert.deepEqual([spec.servers, spec.workers], [1, 3]);
  });

  it('refuses counts below what nodes lists, naming the count', () => {
    assert.throws(() => parse('workers: 1\nnodes:\n- role: worker\n- role: worker\n'), /workers: is 1, but nodes lists 2 workers/);
  });

  it('keeps the short form as it was: one server and one worker', () => {
    const spec = parse('name: short\n');
    assert.deepEqual([spec.servers, spec.workers, spec.nodes], [1, 1, []]);
  });
});
