import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import {
  CRI_SOCKET,
  NODE_PROXIER_BINDING,
  POD_RESOLV_CONF,
  DISCOVERY_KUBECONFIG,
  GO_MEMORY_LIMITS,
  KUBEADM_PATCHES_DIR,
  discoveryKubeconfig,
  initConfig,
  joinConfig,
  API_READY_PATH,
  kubeadmPatches,
  kubeletEnvironment,
  kubeProxyConfig,
  type ClusterFacts,
} from '../../src/distribution/kubeadm/config.js';
import { buildProgress } from '../../src/distribution/kubeadm/kubebuild.js';
import { kubeadmDistribution } from '../../src/distribution/kubeadm/index.js';
import { KUBE_PROXY_SERVICE, KUBELET_KUBEADM_DROPIN } from '../../src/distribution/kubeadm/units.js';
import { cniConfig, nodeAddresses, podCidrNodes, podNetworkEnvironment, podRoutes, podSubnetsOf } from '../../src/distribution/kubeadm/network.js';
import { DEFAULT_POD_SUBNET, DEFAULT_SERVICE_SUBNET } from '../../src/spec/networking.js';
import type { MachineRef } from '../../src/distribution/types.js';

/** The parts of the generated documents the tests read; parsed YAML is cast to these. */
interface NodeRegistration {
  name: string;
  criSocket: string;
  kubeletExtraArgs: unknown;
  ignorePreflightErrors: string[];
  taints?: unknown;
}
interface InitDocuments {
  InitConfiguration: {
    nodeRegistration: NodeRegistration;
    localAPIEndpoint: unknown;
    skipPhases: unknown;
    patches: unknown;
    certificateKey?: string;
    bootstrapTokens: Array<{ ttl: string }>;
  };
  ClusterConfiguration: {
    clusterName: string;
    kubernetesVersion: string;
    controlPlaneEndpoint: string;
    networking: { podSubnet: string; serviceSubnet: string };
    apiServer: { certSANs: string[] };
    controllerManager: { extraArgs: unknown };
    scheduler: { extraArgs: unknown };
    encryptionAlgorithm: string;
  };
  KubeletConfiguration: {
    failCgroupV1: boolean;
    cgroupDriver: string;
    resolvConf: string;
    featureGates?: Record<string, boolean>;
    nodeStatusUpdateFrequency: string;
    nodeStatusReportFrequency: string;
  };
}
interface JoinDocument {
  kind: string;
  nodeRegistration: NodeRegistration;
  discovery: unknown;
  controlPlane?: unknown;
  patches?: unknown;
}
interface CniPlugin {
  type: string;
  ipMasq?: boolean;
  ipam?: { ranges: unknown };
}
type Document = Record<string, unknown>;

const server0: MachineRef = { name: 'kiab-dev-server-0', role: 'server', index: 0, ip: '172.28.0.10' };
const server1: MachineRef = { name: 'kiab-dev-server-1', role: 'server', index: 1, ip: '172.28.0.11' };
const worker0: MachineRef = { name: 'kiab-dev-worker-0', role: 'worker', index: 0, ip: '172.28.0.50' };
const facts: ClusterFacts = {
  clusterName: 'dev',
  kubernetesVersion: 'v1.34.2',
  boxHostname: 'kiab-dev-box',
  boxIp: '172.28.0.2',
  controlPlaneEndpoint: 'kiab-dev-box:6443',
  externalAddresses: [],
  untaintServers: false,
  shape: { nodes: [], networking: { kubeProxyMode: 'iptables', cni: 'kiab', ipFamily: 'ipv4' } },
};
const CUSTOM_RANGES: ClusterFacts = {
  ...facts,
  shape: {
    ...facts.shape,
    networking: {
      kubeProxyMode: 'iptables' as const,
      cni: 'kiab' as const,
      ipFamily: 'ipv4' as const,
      podSubnet: '10.100.0.0/16',
      serviceSubnet: '10.200.0.0/20',
    },
  },
};
const token = 'abcdef.0123456789abcdef';
const certificateKey = 'f'.repeat(64);

/** initConfig's documents by kind, in the order written. */
function initDocuments(facts_: ClusterFacts = facts, key?: string): InitDocuments {
  const documents = parseAllDocuments(initConfig(server0, facts_, key)).map((document) => document.toJS() as Document);
  return Object.fromEntries(documents.map((document) => [document.kind, document])) as unknown as InitDocuments;
}

const join = (machine: MachineRef, key?: string, facts_: ClusterFacts = facts): JoinDocument => parse(joinConfig(machine, facts_, token, key)) as JoinDocument;

describe('kubeadm InitConfiguration', () => {
  it('is three documents: init, cluster and kubelet configuration', () => {
    assert.deepEqual(Object.keys(initDocuments()), ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
  });

  it('registers the first server by name, containerd socket and node IP, with the preflight checks a container fails', () => {
    const registration = initDocuments().InitConfiguration.nodeRegistration;
    assert.equal(registration.name, 'kiab-dev-server-0');
    assert.equal(registration.criSocket, CRI_SOCKET);
    assert.deepEqual(registration.kubeletExtraArgs, [{ name: 'node-ip', value: '172.28.0.10' }]);
    for (const check of ['SystemVerification', 'Swap', 'FileContent--proc-sys-net-bridge-bridge-nf-call-iptables']) {
      assert.ok(registration.ignorePreflightErrors.includes(check), check);
    }
  });

  it('advertises the server address and skips the kube-proxy addon', () => {
    const init = initDocuments().InitConfiguration;
    assert.deepEqual(init.localAPIEndpoint, { advertiseAddress: '172.28.0.10', bindPort: 6443 });
    assert.deepEqual(init.skipPhases, ['addon/kube-proxy']);
    // No 24 h default token: the one kubeadm init makes expires as fast as the per-join ones.
    assert.deepEqual(
      init.bootstrapTokens.map((token) => token.ttl),
      ['15m0s'],
    );
  });

  const keyCases = [
    { when: 'more servers will join', key: certificateKey, expected: certificateKey },
    { when: 'the server is alone', key: undefined, expected: undefined },
  ];
  for (const { when, key, expected } of keyCases) {
    it(`carries a certificate key only when ${when}`, () => {
      assert.equal(initDocuments(facts, key).InitConfiguration.certificateKey, expected);
    });
  }
});

describe('kubeadm node taints', () => {
  const taintCases = [
    { machine: server0, untaintServers: true, via: 'init', taints: [] },
    { machine: server0, untaintServers: false, via: 'init', taints: undefined },
    { machine: server1, untaintServers: true, via: 'join', taints: [] },
    { machine: worker0, untaintServers: true, via: 'join', taints: undefined },
    { machine: worker0, untaintServers: false, via: 'join', taints: undefined },
  ];
  for (const { machine, untaintServers, via, taints } of taintCases) {
    it(`${machine.name} with untaintServers=${untaintServers}: taints ${JSON.stringify(taints)}`, () => {
      const facts_ = { ...facts, untaintServers };
      const document = via === 'init' ? initDocuments(facts_).InitConfiguration : join(machine, undefined, facts_);
      assert.deepEqual(document.nodeRegistration.taints, taints);
    });
  }
});

describe('kubeadm ClusterConfiguration and KubeletConfiguration', () => {
  it('reaches the control plane through the box, with the box in the certificate', () => {
    const cluster = initDocuments().ClusterConfiguration;
    assert.equal(cluster.clusterName, 'dev');
    assert.equal(cluster.kubernetesVersion, 'v1.34.2');
    assert.equal(cluster.controlPlaneEndpoint, 'kiab-dev-box:6443');
    assert.deepEqual(cluster.apiServer.certSANs, ['172.28.0.2', 'kiab-dev-box', 'localhost', '127.0.0.1']);
  });

  it("names the host's addresses in the API certificate when the box publishes beyond loopback", () => {
    const cluster = initDocuments({ ...facts, externalAddresses: ['192.168.1.20', '172.17.0.1'] }).ClusterConfiguration;
    assert.deepEqual(cluster.apiServer.certSANs, ['172.28.0.2', 'kiab-dev-box', 'localhost', '127.0.0.1', '192.168.1.20', '172.17.0.1']);
  });

  it('makes ECDSA P-256 keys (cheap on a small host)', () => {
    assert.equal(initDocuments().ClusterConfiguration.encryptionAlgorithm, 'ECDSA-P256');
  });

  it("uses kiab's pod and service ranges, keeps the controller manager from allocating node CIDRs and lets it start at a local API's pace", () => {
    const cluster = initDocuments().ClusterConfiguration;
    assert.equal(cluster.networking.podSubnet, DEFAULT_POD_SUBNET);
    assert.equal(cluster.networking.serviceSubnet, DEFAULT_SERVICE_SUBNET);
    assert.deepEqual(cluster.controllerManager.extraArgs, [
      { name: 'allocate-node-cidrs', value: 'false' },
      { name: 'kube-api-qps', value: '100' },
      { name: 'kube-api-burst', value: '200' },
    ]);
  });

  it('uses the ranges the spec names', () => {
    const cluster = initDocuments(CUSTOM_RANGES).ClusterConfiguration;
    assert.equal(cluster.networking.podSubnet, '10.100.0.0/16');
    assert.equal(cluster.networking.serviceSubnet, '10.200.0.0/20');
  });

  it("leaves leader election at upstream's pace, and writes a feature gate out in full for each component", () => {
    assert.deepEqual(initDocuments().ClusterConfiguration.scheduler.extraArgs, []);
    const gated: ClusterFacts = { ...facts, shape: { ...facts.shape, featureGates: { InPlacePodVerticalScaling: true } } };
    const gate = { name: 'feature-gates', value: 'InPlacePodVerticalScaling=true' };
    assert.deepEqual(initDocuments(gated).ClusterConfiguration.scheduler.extraArgs, [gate]);
    // An anchor and alias would read the same to a YAML parser, but not to a person reading the machine's file.
    assert.doesNotMatch(initConfig(server0, gated), /[&*]a\d/);
  });

  it("runs the kubelet with systemd cgroups, on cgroup v1 hosts too, with the machine's DNS relay", () => {
    const kubelet = initDocuments().KubeletConfiguration;
    assert.equal(kubelet.failCgroupV1, false);
    assert.equal(kubelet.cgroupDriver, 'systemd');
    assert.equal(kubelet.resolvConf, POD_RESOLV_CONF);
  });

  it('has the kubelet look at its node status every second, yet send it unchanged only every 5 minutes as upstream does', () => {
    const kubelet = initDocuments().KubeletConfiguration;
    assert.equal(kubelet.nodeStatusUpdateFrequency, '1s');
    assert.equal(kubelet.nodeStatusReportFrequency, '5m');
  });

  for (const [version, gates] of [
    ['v1.34.2', { ReduceDefaultCrashLoopBackOffDecay: true }],
    ['v1.33.0', { ReduceDefaultCrashLoopBackOffDecay: true }],
    ['v1.32.9', undefined],
    ['v1.31.0', undefined],
  ] as const) {
    it(`kubelet feature gates for ${version}: ${gates ? 'the shorter crash-loop back-off' : 'none (the gate came in 1.33)'}`, () => {
      assert.deepEqual(initDocuments({ ...facts, kubernetesVersion: version }).KubeletConfiguration.featureGates, gates);
    });
  }
});

describe('kubeadm JoinConfiguration', () => {
  const controlPlaneCases = [
    { machine: worker0, key: certificateKey, controlPlane: undefined },
    { machine: server1, key: undefined, controlPlane: undefined },
    { machine: server1, key: certificateKey, controlPlane: { certificateKey, localAPIEndpoint: { advertiseAddress: '172.28.0.11', bindPort: 6443 } } },
  ];
  for (const { machine, key, controlPlane } of controlPlaneCases) {
    it(`${machine.role} ${key ? 'with' : 'without'} a certificate key: ${controlPlane ? 'joins the control plane, with the patches' : 'no controlPlane block, no patches'}`, () => {
      assert.deepEqual(join(machine, key).controlPlane, controlPlane);
      assert.deepEqual(join(machine, key).patches, controlPlane ? { directory: KUBEADM_PATCHES_DIR } : undefined);
    });
  }

  it('discovers the cluster from the discovery file, the token serving only the TLS bootstrap', () => {
    const document = join(worker0);
    assert.equal(document.kind, 'JoinConfiguration');
    assert.deepEqual(document.discovery, { file: { kubeConfigPath: DISCOVERY_KUBECONFIG }, tlsBootstrapToken: token });
    assert.equal(document.nodeRegistration.name, 'kiab-dev-worker-0');
    assert.deepEqual(document.nodeRegistration.kubeletExtraArgs, [{ name: 'node-ip', value: '172.28.0.50' }]);
  });
});

describe('kubeadm discovery kubeconfig', () => {
  it('names the control plane through the box and pins the cluster CA, with no credentials', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const config = parse(discoveryKubeconfig(facts, pem)) as {
      clusters: Array<{ cluster: Record<string, string> }>;
      users: Array<{ user: Record<string, unknown> }>;
      'current-context': string;
    };
    assert.deepEqual(config.clusters[0]!.cluster, { server: 'https://kiab-dev-box:6443', 'certificate-authority-data': Buffer.from(pem).toString('base64') });
    assert.deepEqual(config.users[0]!.user, {});
    assert.equal(config['current-context'], 'dev');
  });
});

describe('kubeadm patches', () => {
  const patches = Object.fromEntries(kubeadmPatches().map((patch) => [patch.file, JSON.parse(patch.content) as Document]));
  const staticPods = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

  it('are strategic merge patches of the four static pods and the CoreDNS Deployment, nothing else', () => {
    assert.deepEqual(Object.keys(patches).sort(), [...staticPods.map((name) => `${name}+strategic.json`), 'corednsdeployment+strategic.json'].sort());
  });

  for (const component of staticPods) {
    it(`${component}: startup probed every second from the start, within the upstream 240 s budget`, () => {
      const containers = (patches[`${component}+strategic.json`] as { spec: { containers: Array<{ name: string; startupProbe: Document }> } }).spec.containers;
      assert.equal(containers.length, 1);
      assert.equal(containers[0]!.name, component);
      const probe = containers[0]!.startupProbe as { initialDelaySeconds: number; periodSeconds: number; failureThreshold: number };
      assert.equal(probe.initialDelaySeconds, 0);
      assert.equal(probe.periodSeconds, 1);
      assert.ok(probe.periodSeconds * probe.failureThreshold >= 240);
    });
  }

  it('kube-apiserver: ready by the same path as the box checks, /readyz but for the hooks that store defaults', () => {
    const containers = (patches['kube-apiserver+strategic.json'] as { spec: { containers: Array<{ readinessProbe: Document }> } }).spec.containers;
    assert.deepEqual(containers[0]!.readinessProbe, { httpGet: { path: kubeadmDistribution.health.apiPath } });
    const url = new URL(API_READY_PATH, 'https://server');
    assert.equal(url.pathname, '/readyz');
    assert.deepEqual(url.searchParams.getAll('exclude'), ['poststarthook/rbac/bootstrap-roles', 'poststarthook/scheduling/bootstrap-system-priority-classes']);
    for (const component of ['etcd', 'kube-controller-manager', 'kube-scheduler'])
      assert.equal(
        (patches[`${component}+strategic.json`] as { spec: { containers: Array<{ readinessProbe?: Document }> } }).spec.containers[0]!.readinessProbe,
        undefined,
      );
  });

  it('CoreDNS: readiness seen within a second, with its soft memory limit', () => {
    assert.deepEqual(patches['corednsdeployment+strategic.json'], {
      spec: {
        template: {
          spec: { containers: [{ name: 'coredns', readinessProbe: { periodSeconds: 1 }, env: [{ name: 'GOMEMLIMIT', value: GO_MEMORY_LIMITS.coredns }] }] },
        },
      },
    });
  });

  for (const component of staticPods) {
    it(`${component}: runs with its soft memory limit`, () => {
      const container = (patches[`${component}+strategic.json`] as { spec: { containers: Array<{ env: unknown }> } }).spec.containers[0]!;
      assert.deepEqual(container.env, [{ name: 'GOMEMLIMIT', value: GO_MEMORY_LIMITS[component as keyof typeof GO_MEMORY_LIMITS] }]);
    });
  }

  for (const component of staticPods) {
    it(`${component}: a changed manifest replaces it after a short grace period, not the default 30 s`, () => {
      const spec = (patches[`${component}+strategic.json`] as { spec: { terminationGracePeriodSeconds?: number } }).spec;
      assert.ok(spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds > 0 && spec.terminationGracePeriodSeconds < 30);
    });
  }

  it('kubeadm init reads them', () => {
    assert.deepEqual(initDocuments().InitConfiguration.patches, { directory: KUBEADM_PATCHES_DIR });
  });
});

describe('soft memory limits outside kubeadm', () => {
  it('the kubelet reads its own from /etc/default/kubelet', () => {
    assert.equal(kubeletEnvironment(), `GOMEMLIMIT=${GO_MEMORY_LIMITS.kubelet}\n`);
    assert.match(KUBELET_KUBEADM_DROPIN, /EnvironmentFile=-\/etc\/default\/kubelet/);
  });

  it("kube-proxy's unit carries the table's", () => {
    assert.match(KUBE_PROXY_SERVICE, new RegExp(`^Environment=GOMEMLIMIT=${GO_MEMORY_LIMITS['kube-proxy']}$`, 'm'));
  });

  it('are written in units Go reads (MiB), each at least 32 MiB', () => {
    for (const [component, limit] of Object.entries(GO_MEMORY_LIMITS)) {
      const mib = /^(\d+)MiB$/.exec(limit)?.[1];
      assert.ok(mib && Number(mib) >= 32, `${component}: ${limit}`);
    }
  });
});

describe('kube-proxy as a machine service', () => {
  it('leaves conntrack alone and names itself after the machine', () => {
    const config = parse(kubeProxyConfig(worker0, facts, 'iptables')) as Document;
    assert.equal(config.kind, 'KubeProxyConfiguration');
    assert.equal(config.mode, 'iptables');
    assert.deepEqual(config.conntrack, { maxPerCore: 0 });
    assert.equal(config.hostnameOverride, 'kiab-dev-worker-0');
    assert.equal(config.clusterCIDR, DEFAULT_POD_SUBNET);
  });

  it("counts the pod range the spec names as the cluster's", () => {
    assert.equal((parse(kubeProxyConfig(worker0, CUSTOM_RANGES, 'iptables')) as Document).clusterCIDR, '10.100.0.0/16');
  });

  it('runs in the mode the spec names', () => {
    assert.equal((parse(kubeProxyConfig(worker0, facts, 'nftables')) as Document).mode, 'nftables');
  });

  it('binds system:node-proxier to the nodes group', () => {
    const binding = parse(NODE_PROXIER_BINDING) as Document;
    assert.equal(binding.kind, 'ClusterRoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' });
    assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }]);
  });
});

describe('kubeadm pod network', () => {
  const subnetCases = [
    { role: 'server', index: 0, subnet: '10.244.0.0/24' },
    { role: 'server', index: 3, subnet: '10.244.3.0/24' },
    { role: 'worker', index: 0, subnet: '10.244.50.0/24' },
    { role: 'worker', index: 7, subnet: '10.244.57.0/24' },
  ] as const;
  for (const { role, index, subnet } of subnetCases) {
    it(`gives ${role} ${index} the pod range ${subnet}`, () => {
      assert.deepEqual(podSubnetsOf({}, { role, index }), [subnet]);
    });
  }

  it("writes a bridge + portmap CNI config on the machine's own range, without masquerading", () => {
    const text = cniConfig({}, worker0);
    assert.ok(text.endsWith('}\n'));
    const { plugins } = JSON.parse(text) as { plugins: CniPlugin[] };
    assert.deepEqual(
      plugins.map((plugin) => plugin.type),
      ['bridge', 'portmap'],
    );
    assert.equal(plugins[0]?.ipMasq, false);
    assert.deepEqual(plugins[0]?.ipam?.ranges, [[{ subnet: '10.244.50.0/24' }]]);
  });

  const wide = { podSubnet: '10.64.0.0/12' };
  const wideCases = [
    { role: 'server', index: 2, subnet: '10.64.2.0/24' },
    { role: 'worker', index: 0, subnet: '10.64.50.0/24' },
    { role: 'worker', index: 149, subnet: '10.64.199.0/24' },
  ] as const;
  for (const { role, index, subnet } of wideCases) {
    it(`gives ${role} ${index} the pod range ${subnet} of ${wide.podSubnet}`, () => {
      assert.deepEqual(podSubnetsOf(wide, { role, index }), [subnet]);
    });
  }

  it('routes to the /24s of the pod range the spec names', () => {
    assert.equal(podRoutes({ podSubnet: '192.168.0.0/16' }, server0, [server0, worker0]), '# Written by kiab: POD_SUBNET VIA\n192.168.50.0/24 172.28.0.50\n');
  });

  it('hands the pod network script the ranges, the defaults where the spec names none', () => {
    assert.equal(podNetworkEnvironment({}), `POD_CIDR=${DEFAULT_POD_SUBNET}\nSERVICE_CIDR=${DEFAULT_SERVICE_SUBNET}\nPOD_CIDR6=\nSERVICE_CIDR6=\nCNI=kiab\n`);
    assert.equal(
      podNetworkEnvironment({ podSubnet: '10.100.0.0/16', serviceSubnet: '10.200.0.0/20', cni: 'none' }),
      'POD_CIDR=10.100.0.0/16\nSERVICE_CIDR=10.200.0.0/20\nPOD_CIDR6=\nSERVICE_CIDR6=\nCNI=none\n',
    );
    assert.equal(
      podNetworkEnvironment({ ipFamily: 'ipv6' }),
      'POD_CIDR=\nSERVICE_CIDR=\nPOD_CIDR6=fd00:10:244::/56\nSERVICE_CIDR6=fd00:10:96::/112\nCNI=kiab\n',
    );
  });

  it('gives each machine of a dual-stack cluster an IPv4 /24 and the IPv6 /64 of the same number, and routes both', () => {
    const dual = { ipFamily: 'dual' as const };
    assert.deepEqual(podSubnetsOf(dual, worker0), ['10.244.50.0/24', 'fd00:10:244:32::/64']);
    assert.deepEqual(podSubnetsOf({ ipFamily: 'ipv6' }, server0), ['fd00:10:244::/64']);
    assert.deepEqual(nodeAddresses(dual, worker0), ['172.28.0.50', 'fd6b:6961:62ac:1c00::50']);
    assert.deepEqual(nodeAddresses({ ipFamily: 'ipv6' }, worker0), ['fd6b:6961:62ac:1c00::50']);
    assert.equal(
      podRoutes(dual, server0, [server0, worker0]),
      '# Written by kiab: POD_SUBNET VIA\n10.244.50.0/24 172.28.0.50\nfd00:10:244:32::/64 fd6b:6961:62ac:1c00::50\n',
    );
    const { plugins } = JSON.parse(cniConfig(dual, worker0)) as { plugins: CniPlugin[] };
    assert.deepEqual(plugins[0]?.ipam?.ranges, [[{ subnet: '10.244.50.0/24' }], [{ subnet: 'fd00:10:244:32::/64' }]]);
  });

  it('gives kubeadm and kube-proxy both ranges of a dual-stack cluster, IPv4 first, and an IPv6-only server its IPv6 address', () => {
    const withFamily = (ipFamily: 'dual' | 'ipv6'): ClusterFacts => ({
      ...facts,
      shape: { ...facts.shape, networking: { ...facts.shape.networking, ipFamily } },
    });
    const dual = initDocuments(withFamily('dual'));
    assert.deepEqual(dual.ClusterConfiguration.networking, {
      podSubnet: '10.244.0.0/16,fd00:10:244::/56',
      serviceSubnet: '10.96.0.0/16,fd00:10:96::/112',
      dnsDomain: 'cluster.local',
    });
    assert.deepEqual(dual.InitConfiguration.nodeRegistration.kubeletExtraArgs, [{ name: 'node-ip', value: '172.28.0.10,fd6b:6961:62ac:1c00::10' }]);
    assert.deepEqual(dual.InitConfiguration.localAPIEndpoint, { advertiseAddress: '172.28.0.10', bindPort: 6443 });
    assert.equal((parse(kubeProxyConfig(worker0, withFamily('dual'), 'iptables')) as Document).clusterCIDR, '10.244.0.0/16,fd00:10:244::/56');
    assert.deepEqual(initDocuments(withFamily('ipv6')).InitConfiguration.localAPIEndpoint, { advertiseAddress: 'fd6b:6961:62ac:1c00::10', bindPort: 6443 });
  });

  it("writes each machine's /24 on its node as one server-side apply of partial Nodes", () => {
    const list = JSON.parse(podCidrNodes({ podSubnet: '10.100.0.0/16' }, [server0, worker0])) as { kind: string; items: Document[] };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items, [
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'kiab-dev-server-0' }, spec: { podCIDR: '10.100.0.0/24', podCIDRs: ['10.100.0.0/24'] } },
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'kiab-dev-worker-0' }, spec: { podCIDR: '10.100.50.0/24', podCIDRs: ['10.100.50.0/24'] } },
    ]);
  });

  const header = '# Written by kiab: POD_SUBNET VIA';
  const routeCases = [
    { self: server0, machines: [server0], expected: `${header}\n` },
    { self: server0, machines: [server0, worker0], expected: `${header}\n10.244.50.0/24 172.28.0.50\n` },
    { self: worker0, machines: [server0, server1, worker0], expected: `${header}\n10.244.0.0/24 172.28.0.10\n10.244.1.0/24 172.28.0.11\n` },
  ];
  for (const { self, machines, expected } of routeCases) {
    it(`routes ${self.name} to the pod ranges of the ${machines.length - 1} other machine(s)`, () => {
      assert.equal(podRoutes({}, self, machines), expected);
    });
  }
});

describe('kubeadm build progress', () => {
  it("names the binary being compiled and the count from build.sh's announcements, with go build -v's packages between", () => {
    const details: string[] = [];
    const onLine = buildProgress((detail) => details.push(detail));
    for (const line of [
      'go: downloading k8s.io/kubernetes v1.34.4',
      'build.sh: compiling kubelet (1/10)',
      'k8s.io/kubernetes/pkg/kubelet',
      'build.sh: kubelet v1.34.4: 250s',
      'build.sh: compiling kube-apiserver (4/10)',
    ])
      onLine(line);
    assert.deepEqual(details, ['kubelet (1/10)', 'kubelet (1/10): k8s.io/kubernetes/pkg/kubelet', 'kube-apiserver (4/10)']);
  });
});
