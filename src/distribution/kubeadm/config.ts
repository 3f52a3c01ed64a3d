import { stringify } from 'yaml';
import { singleKubeconfig } from '../../kubeconfig/index.js';
import type { ClusterSpec, KubeProxyMode } from '../../spec/schema.js';
import { nodeOf } from '../../spec/shape.js';
import { familyRanges } from '../../spec/networking.js';
import type { MachineRef } from '../types.js';
import { nodeAddresses } from './network.js';
import { patchDocuments, type KubeadmDocument } from './patches.js';

export const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';
/** containerd's namespace for Kubernetes, as a ctr command prefix. */
export const CTR = ['ctr', '--namespace', 'k8s.io'];
export const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';
/** kubectl as the cluster admin, run on a server. */
export const KUBECTL = ['kubectl', '--kubeconfig', ADMIN_KUBECONFIG];
export const API_PORT = 6443;
/** Written per machine: its DNS relay (see units.ts). */
export const POD_RESOLV_CONF = '/etc/kiab/resolv.conf';

/**
 * Preflight checks that cannot pass inside a container machine: there is no kernel config to verify, no
 * swap to turn off, and the bridge sysctl lives in the host's namespace on some kernels.
 */
export const IGNORED_PREFLIGHT = ['SystemVerification', 'Swap', 'FileContent--proc-sys-net-bridge-bridge-nf-call-iptables'];

export interface ClusterFacts {
  clusterName: string;
  kubernetesVersion: string;
  boxHostname: string;
  boxIp: string;
  /** Further names for the API certificate: the host's addresses when the box publishes beyond loopback. */
  externalAddresses: string[];
  /** The control plane is reached through the box, which forwards 6443 to the first server. */
  controlPlaneEndpoint: string;
  /** Whether servers must also run workloads (no workers). */
  untaintServers: boolean;
  /** What the spec asks of the components and of each node (feature gates, patches, labels, taints...). */
  shape: KubeadmShape;
}

export type KubeadmShape = Pick<
  ClusterSpec,
  'featureGates' | 'runtimeConfig' | 'kubeadmConfigPatches' | 'kubeadmConfigPatchesJSON6902' | 'apiServer' | 'nodes' | 'networking'
>;

const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/**
 * Labels a kubelet may give its own node: the API server's node restriction refuses keys under kubernetes.io
 * and k8s.io but for these. The rest are set through the API once the node is there (cluster/kubernetes/node-shape.ts).
 */
function kubeletMaySet(key: string): boolean {
  const domain = key.includes('/') ? key.split('/')[0]! : '';
  if (!/(^|\.)(kubernetes\.io|k8s\.io)$/.test(domain)) return true;
  return /(^|\.)(kubelet|node)\.kubernetes\.io$/.test(domain);
}

function nodeRegistration(machine: MachineRef, facts: ClusterFacts): Record<string, unknown> {
  const node = nodeOf(facts.shape, machine.role, machine.index);
  const labels = Object.entries(node?.labels ?? {}).filter(([key]) => kubeletMaySet(key));
  const ownTaints = machine.role === 'server' && !facts.untaintServers ? [CONTROL_PLANE_TAINT] : [];
  return {
    name: machine.name,
    criSocket: CRI_SOCKET,
    kubeletExtraArgs: [
      // Both addresses on a dual-stack cluster, IPv4 first: the kubelet then reports both, and kube-proxy serves both families.
      { name: 'node-ip', value: nodeAddresses(facts.shape.networking, machine).join(',') },
      ...(labels.length > 0 ? [{ name: 'node-labels', value: labels.map(([key, value]) => `${key}=${value}`).join(',') }] : []),
    ],
    ignorePreflightErrors: IGNORED_PREFLIGHT,
    ...(node && node.taints.length > 0 ? { taints: [...ownTaints, ...node.taints] } : machine.role === 'server' && facts.untaintServers ? { taints: [] } : {}),
  };
}

/** `--feature-gates` as the control-plane components take it, or nothing without gates. */
function featureGateArgs(shape: KubeadmShape): Array<{ name: string; value: string }> {
  const gates = Object.entries(shape.featureGates ?? {});
  return gates.length === 0 ? [] : [{ name: 'feature-gates', value: gates.map(([gate, on]) => `${gate}=${on}`).join(',') }];
}

/** Whether `version` (v1.34.4) is at least minor release `minor` of Kubernetes 1. */
function fromMinor(version: string, minor: number): boolean {
  const found = /^v?1\.(\d+)\./.exec(version);
  return found !== null && Number(found[1]) >= minor;
}

function kubeletConfiguration(kubernetesVersion: string, shape: KubeadmShape): KubeadmDocument {
  const ownGates = fromMinor(kubernetesVersion, 33) ? { ReduceDefaultCrashLoopBackOffDecay: true } : {};
  const gates = { ...ownGates, ...shape.featureGates };
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
    // A kubelet that starts before the API answers (every machine after `kiab reset`, or after a restart)
    // fails to make the first container of each pod ("services have not yet been read"), and the default
    // back-off then holds every such pod for 10 s. Upstream's gate for a shorter decay starts it at 1 s
    // (capped at 60 s rather than 300 s), which suits a cluster on one's own machine.
    // (The gate exists from 1.33 on; a kubelet refuses a gate it does not know.) The spec's gates come beside it.
    ...(Object.keys(gates).length > 0 ? { featureGates: gates } : {}),
    // After a reset the restored etcd says every node is Ready: a kubelet that then registers before its
    // runtime is checked (PLEG) reports its node not ready, and its one fast update had already stopped on
    // the stale Ready. It looks again only at this period (10 s by default): once a second it is Ready a
    // second after its runtime is. A look sends nothing unless the status changed...
    nodeStatusUpdateFrequency: '1s',
    // ...or this much time passed: upstream's default, written out because setting the update period alone
    // would make the kubelet send its whole status every second.
    nodeStatusReportFrequency: '5m',
  };
}

function clusterConfiguration(facts: ClusterFacts): KubeadmDocument {
  const gates = featureGateArgs(facts.shape);
  const runtimeConfig = Object.entries(facts.shape.runtimeConfig ?? {});
  const ranges = familyRanges(facts.shape.networking);
  return {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    clusterName: facts.clusterName,
    kubernetesVersion: facts.kubernetesVersion,
    controlPlaneEndpoint: facts.controlPlaneEndpoint,
    // kubeadm gives the DNS Service the 10th address of the service range, and each kubelet that address.
    // A dual-stack cluster gives both, IPv4 first: its primary family, which a Service of one family gets.
    networking: { podSubnet: ranges.pods.join(','), serviceSubnet: ranges.services.join(','), dnsDomain: 'cluster.local' },
    // kubeadm makes some 16 keys at init: RSA-2048 takes seconds of a small host's CPU for them, ECDSA
    // P-256 next to nothing, and its TLS handshakes are cheaper too.
    encryptionAlgorithm: 'ECDSA-P256',
    apiServer: {
      certSANs: [
        ...new Set([facts.boxIp, facts.boxHostname, 'localhost', '127.0.0.1', ...facts.externalAddresses, ...(facts.shape.apiServer?.certSANs ?? [])]),
      ],
      // Aggregated APIs (metrics-server's) are reached at their endpoints, which every server routes to, not
      // through their Service's address: that one works only once kube-proxy on the server has caught up,
      // and a check that fails before then is retried up to 30 s later (27 s of every third reset here).
      extraArgs: [
        { name: 'enable-aggregator-routing', value: 'true' },
        ...gates,
        ...(runtimeConfig.length > 0 ? [{ name: 'runtime-config', value: runtimeConfig.map(([key, value]) => `${key}=${value}`).join(',') }] : []),
      ],
    },
    controllerManager: {
      extraArgs: [
        // kiab hands out pod ranges itself (fixed per machine), so the controller manager must not.
        { name: 'allocate-node-cidrs', value: 'false' },
        // At start each of its ~40 controllers gets credentials of its own (a service account and a token) in
        // turn; at the default 20 requests/s that took 4 s, during which no CSR was approved, so every join
        // waited. The only client of a local API server can go faster.
        { name: 'kube-api-qps', value: '100' },
        { name: 'kube-api-burst', value: '200' },
        ...featureGateArgs(facts.shape),
      ],
    },
    scheduler: { extraArgs: featureGateArgs(facts.shape) },
  };
}

/** Where kubeadm finds kiab's patches of the control-plane manifests and the CoreDNS Deployment (servers only). */
export const KUBEADM_PATCHES_DIR = '/etc/kiab/kubeadm-patches';

const CONTROL_PLANE_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

/**
 * kubeadm's static pods are probed for startup after 10 s and then every 10 s, so a component that is up
 * in 3 s counts as started only at 10 or 20 s, which is what `up` and `reset` waited for. Probing every
 * second from the start keeps the same 240 s budget (240 × 1 s against 24 × 10 s); liveness stays as it is.
 */
const FAST_STARTUP_PROBE = { initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 240 };

/**
 * When a static pod's manifest changes (an upgrade, a changed flag), the kubelet starts the new pod only once
 * the old one's grace period has run out, even when its process has already exited: with the default 30 s a
 * changed API server manifest kept the API down for 41 s, and for 17 s with this. 3 s is what each component
 * gets to stop on SIGTERM; one killed after that loses nothing (etcd has its writes on disk before it answers).
 */
const STATIC_POD_GRACE_SECONDS = 3;

/**
 * Soft memory limits (GOMEMLIMIT) for the Go processes of a local cluster. Go lets a heap grow to twice what
 * is live before collecting; on a laptop cluster that idles, collecting earlier keeps each process close to
 * what it uses. Soft: a process that needs more still gets it (the collector works harder, nothing is killed).
 * Set above each one's idle live heap measured on a 1+2 cluster, so an idle cluster does not collect all the time.
 */
export const GO_MEMORY_LIMITS = {
  // Idle it lives on about 170 MiB, but its start (the OpenAPI documents of every API and CRD) holds far more: under
  // a 256 MiB limit it spent half its CPU there collecting, 15 CPU-s of an up against 9-10 s under this one.
  'kube-apiserver': '512MiB',
  // Both start dozens of informers at once: room for that peak, so their start is never slowed by collection.
  'kube-controller-manager': '96MiB',
  'kube-scheduler': '48MiB',
  etcd: '64MiB',
  coredns: '32MiB',
  kubelet: '64MiB',
  'kube-proxy': '32MiB',
} as const;

/** The kubelet's environment (systemd reads /etc/default/kubelet for it): its soft memory limit. */
export function kubeletEnvironment(): string {
  return `GOMEMLIMIT=${GO_MEMORY_LIMITS.kubelet}\n`;
}

/** A file of kubeadm's patches directory: `target+patchtype.json`, here always strategic merge patches. */
export interface KubeadmPatch {
  file: string;
  content: string;
}

/**
 * Post-start hooks that only make sure upstream's default RBAC roles and priority classes are stored. A server
 * that starts again (after a reset, a snapshot restore or a restart) goes through every default object before
 * they pass, a second here, although etcd already holds them all and the server answers meanwhile; on a new
 * server they are done long before kubeadm init is.
 */
const DEFAULTS_HOOKS = ['poststarthook/rbac/bootstrap-roles', 'poststarthook/scheduling/bootstrap-system-priority-classes'];

/**
 * When a server's API counts as ready, for the box's load balancer and for the kubelet's readiness probe
 * alike: every check of /readyz (etcd, the informers, the other hooks) but DEFAULTS_HOOKS.
 */
export const API_READY_PATH = `/readyz?${DEFAULTS_HOOKS.map((hook) => `exclude=${hook}`).join('&')}`;

/** The strategic merge patches kubeadm applies to what it generates on a server (init and control-plane joins). */
export function kubeadmPatches(): KubeadmPatch[] {
  const staticPods = CONTROL_PLANE_COMPONENTS.map((component) => ({
    file: `${component}+strategic.json`,
    content: JSON.stringify({
      spec: {
        terminationGracePeriodSeconds: STATIC_POD_GRACE_SECONDS,
        containers: [
          {
            name: component,
            startupProbe: FAST_STARTUP_PROBE,
            ...(component === 'kube-apiserver' ? { readinessProbe: { httpGet: { path: API_READY_PATH } } } : {}),
            env: [{ name: 'GOMEMLIMIT', value: GO_MEMORY_LIMITS[component] }],
          },
        ],
      },
    }),
  }));
  // CoreDNS is checked for readiness every 10 s by default: a replica that is ready 1 s after it starts would
  // count as ready 10 s later. Once a second is cheap (a local HTTP request) and only changes when it is seen.
  const coredns = {
    file: 'corednsdeployment+strategic.json',
    content: JSON.stringify({
      spec: {
        template: {
          spec: { containers: [{ name: 'coredns', readinessProbe: { periodSeconds: 1 }, env: [{ name: 'GOMEMLIMIT', value: GO_MEMORY_LIMITS.coredns }] }] },
        },
      },
    }),
  };
  return [...staticPods, coredns];
}

/**
 * The spec's kubeadm patches that apply to a machine's documents: the cluster's, then its own node's. Each
 * names its spec field, so that one that fails, or matches no document, is refused by it.
 */
function patchesFor(machine: MachineRef, shape: KubeadmShape): Parameters<typeof patchDocuments>[1] {
  const node = nodeOf(shape, machine.role, machine.index);
  const at = node ? shape.nodes.indexOf(node) : -1;
  return [
    ...(shape.kubeadmConfigPatches ?? []).map((text, index) => ({ field: `kubeadmConfigPatches.${index}`, text })),
    ...(node?.kubeadmConfigPatches ?? []).map((text, index) => ({ field: `nodes.${at}.kubeadmConfigPatches.${index}`, text })),
  ];
}

/** A machine's documents with the spec's patches applied, and which patch fields matched one of them. */
export function shapedDocuments(machine: MachineRef, facts: ClusterFacts, documents: KubeadmDocument[]): ReturnType<typeof patchDocuments> {
  const json6902 = (facts.shape.kubeadmConfigPatchesJSON6902 ?? []).map((patch, index) => ({ ...patch, field: `kubeadmConfigPatchesJSON6902.${index}` }));
  return patchDocuments(documents, patchesFor(machine, facts.shape), json6902);
}

const toYaml = (documents: KubeadmDocument[]): string => documents.map((document) => stringify(document)).join('---\n');

/**
 * The address a server's API server and etcd advertise: of the cluster's primary family, which is what the
 * `kubernetes` Service's endpoints hold. The box reaches each server at its IPv4 address all the same: the API
 * server listens on both families.
 */
function apiAddress(machine: MachineRef, facts: ClusterFacts): string {
  return nodeAddresses(facts.shape.networking, machine)[0]!;
}

/** kubeadm init's configuration for the first server. `certificateKey` is set when more servers will join. */
export function initConfig(first: MachineRef, facts: ClusterFacts, certificateKey?: string): string {
  return toYaml(shapedDocuments(first, facts, initDocuments(first, facts, certificateKey)).documents);
}

export function initDocuments(first: MachineRef, facts: ClusterFacts, certificateKey?: string): KubeadmDocument[] {
  const init = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'InitConfiguration',
    nodeRegistration: nodeRegistration(first, facts),
    localAPIEndpoint: { advertiseAddress: apiAddress(first, facts), bindPort: API_PORT },
    // kube-proxy runs as a machine service (no image to pull); its configuration is kiab's.
    skipPhases: ['addon/kube-proxy'],
    patches: { directory: KUBEADM_PATCHES_DIR },
    // kubeadm would otherwise mint a bootstrap token valid for 24 h; joins get fresh 15-minute tokens of their own.
    bootstrapTokens: [{ ttl: '15m0s', usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] }],
    ...(certificateKey ? { certificateKey } : {}),
  };
  return [init, clusterConfiguration(facts), kubeletConfiguration(facts.kubernetesVersion, facts.shape)];
}

/** Where a joining machine finds the cluster: a kubeconfig naming the API endpoint and the cluster CA, no credentials. */
export const DISCOVERY_KUBECONFIG = '/etc/kiab/discovery.conf';

/**
 * The discovery kubeconfig for a join: the control-plane endpoint and the cluster CA (public), so the joining
 * machine trusts exactly that CA as a CA hash pin would. kubeadm's token discovery would instead wait for the
 * controller manager to sign the cluster-info ConfigMap with each fresh token, retrying every 5 s.
 */
export function discoveryKubeconfig(facts: ClusterFacts, clusterCaPem: string): string {
  const cluster = { server: `https://${facts.controlPlaneEndpoint}`, 'certificate-authority-data': Buffer.from(clusterCaPem).toString('base64') };
  return singleKubeconfig(facts.clusterName, cluster, {}, 'discovery');
}

export function joinConfig(machine: MachineRef, facts: ClusterFacts, token: string, certificateKey?: string): string {
  return toYaml(shapedDocuments(machine, facts, [joinDocument(machine, facts, token, certificateKey)]).documents);
}

export function joinDocument(machine: MachineRef, facts: ClusterFacts, token: string, certificateKey?: string): KubeadmDocument {
  const join = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    nodeRegistration: nodeRegistration(machine, facts),
    // The bootstrap token only authenticates the kubelet's TLS bootstrap; the cluster is found through the file.
    discovery: { file: { kubeConfigPath: DISCOVERY_KUBECONFIG }, tlsBootstrapToken: token },
    ...(machine.role === 'server' && certificateKey
      ? {
          controlPlane: { certificateKey, localAPIEndpoint: { advertiseAddress: apiAddress(machine, facts), bindPort: API_PORT } },
          patches: { directory: KUBEADM_PATCHES_DIR },
        }
      : {}),
  };
  return join;
}

/** kube-proxy's configuration (kiab runs it as a machine service) in the spec's mode, with its gates and patches. */
export function kubeProxyConfig(machine: MachineRef, facts: ClusterFacts, mode: Exclude<KubeProxyMode, 'none'>): string {
  return toYaml(shapedDocuments(machine, facts, [kubeProxyDocument(machine, facts.shape, mode)]).documents);
}

export function kubeProxyDocument(machine: MachineRef, shape: KubeadmShape, mode: Exclude<KubeProxyMode, 'none'> = 'iptables'): KubeadmDocument {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: '/etc/kubernetes/kubelet.conf' },
    hostnameOverride: machine.name,
    mode,
    clusterCIDR: familyRanges(shape.networking).pods.join(','),
    // nf_conntrack_max is not writable from a machine's network namespace.
    conntrack: { maxPerCore: 0 },
    ...(shape.featureGates ? { featureGates: shape.featureGates } : {}),
  };
}

/** Lets kube-proxy, which runs with the node's own credentials, read services and endpoints. */
export const NODE_PROXIER_BINDING = stringify({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'kiab:node-proxier' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
});
