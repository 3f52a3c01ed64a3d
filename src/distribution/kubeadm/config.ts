import { stringify } from 'yaml';
import type { MachineRef } from '../types.js';
import { POD_CIDR, SERVICE_CIDR } from './network.js';

export const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';
export const API_PORT = 6443;
/** Written per machine: its DNS relay (see units.ts). */
export const POD_RESOLV_CONF = '/etc/kiab/resolv.conf';

/**
 * Preflight checks that cannot pass inside a container machine: there is no kernel config to verify, no
 * swap to turn off, and the bridge sysctl lives in the host's namespace on some kernels.
 */
const IGNORED_PREFLIGHT = ['SystemVerification', 'Swap', 'FileContent--proc-sys-net-bridge-bridge-nf-call-iptables'];

export interface ClusterFacts {
  clusterName: string;
  kubernetesVersion: string;
  boxHostname: string;
  boxIp: string;
  /** The control plane is reached through the box, which forwards 6443 to the first server. */
  controlPlaneEndpoint: string;
  /** Whether servers must also run workloads (no workers). */
  untaintServers: boolean;
}

function nodeRegistration(machine: MachineRef, facts: ClusterFacts): Record<string, unknown> {
  return {
    name: machine.name,
    criSocket: CRI_SOCKET,
    kubeletExtraArgs: [{ name: 'node-ip', value: machine.ip }],
    ignorePreflightErrors: IGNORED_PREFLIGHT,
    ...(machine.role === 'server' && facts.untaintServers ? { taints: [] } : {}),
  };
}

function kubeletConfiguration(): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'systemd',
    failSwapOn: false,
    // Hosts with cgroup v1 controllers still exist (and 1.35 refuses them by default).
    failCgroupV1: false,
    // The disk is the host's, shared by every machine: evicting pods for its fill level helps no one.
    imageGCHighThresholdPercent: 100,
    resolvConf: POD_RESOLV_CONF,
    evictionHard: { 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
    // The kubelet's serving certificate comes from the cluster CA (kiab approves exactly these requests), so
    // metrics-server and the API server can verify kubelets instead of skipping TLS verification.
    serverTLSBootstrap: true,
  };
}

function clusterConfiguration(facts: ClusterFacts): Record<string, unknown> {
  return {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    clusterName: facts.clusterName,
    kubernetesVersion: facts.kubernetesVersion,
    controlPlaneEndpoint: facts.controlPlaneEndpoint,
    networking: { podSubnet: POD_CIDR, serviceSubnet: SERVICE_CIDR, dnsDomain: 'cluster.local' },
    apiServer: { certSANs: [facts.boxIp, facts.boxHostname, 'localhost', '127.0.0.1'] },
    // kiab hands out pod ranges itself (fixed per machine), so the controller manager must not.
    controllerManager: { extraArgs: [{ name: 'allocate-node-cidrs', value: 'false' }] },
  };
}

/** kubeadm init's configuration for the first server. `certificateKey` is set when more servers will join. */
export function initConfig(first: MachineRef, facts: ClusterFacts, certificateKey?: string): string {
  const init = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'InitConfiguration',
    nodeRegistration: nodeRegistration(first, facts),
    localAPIEndpoint: { advertiseAddress: first.ip, bindPort: API_PORT },
    // kube-proxy runs as a machine service (no image to pull); its configuration is kiab's.
    skipPhases: ['addon/kube-proxy'],
    // kubeadm would otherwise mint a bootstrap token valid for 24 h; joins get fresh 15-minute tokens of their own.
    bootstrapTokens: [{ ttl: '15m0s', usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] }],
    ...(certificateKey ? { certificateKey } : {}),
  };
  return [init, clusterConfiguration(facts), kubeletConfiguration()].map((document) => stringify(document)).join('---\n');
}

export function joinConfig(machine: MachineRef, facts: ClusterFacts, discovery: { token: string; caCertHash: string }, certificateKey?: string): string {
  const join = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    nodeRegistration: nodeRegistration(machine, facts),
    discovery: { bootstrapToken: { apiServerEndpoint: facts.controlPlaneEndpoint, token: discovery.token, caCertHashes: [discovery.caCertHash] } },
    ...(machine.role === 'server' && certificateKey
      ? { controlPlane: { certificateKey, localAPIEndpoint: { advertiseAddress: machine.ip, bindPort: API_PORT } } }
      : {}),
  };
  return stringify(join);
}

export function kubeProxyConfig(machine: MachineRef): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: '/etc/kubernetes/kubelet.conf' },
    hostnameOverride: machine.name,
    mode: 'iptables',
    clusterCIDR: POD_CIDR,
    // nf_conntrack_max is not writable from a machine's network namespace.
    conntrack: { maxPerCore: 0 },
  });
}

/** Lets kube-proxy, which runs with the node's own credentials, read services and endpoints. */
export const NODE_PROXIER_BINDING = stringify({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'kiab:node-proxier' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
});
