import { isAbsolute, resolve } from 'node:path';
import type { ClusterSpecInput } from './schema.js';

/** The one kind config version kiab reads (kind v0.20 and later write it). */
export const KIND_API_VERSION = 'kind.x-k8s.io/v1alpha4';
const KIND_GROUP = 'kind.x-k8s.io/';

/** A kind field kiab cannot honour: its path in the kind file and why, for a one-line refusal. */
export class KindFieldError extends Error {
  constructor(
    readonly path: Array<string | number>,
    message: string,
  ) {
    super(message);
  }
}

/** Whether a parsed document is a kind config rather than a kiab.yaml (kiab.yaml has no apiVersion). */
export function isKindConfig(value: unknown): boolean {
  const apiVersion = (value as { apiVersion?: unknown } | null)?.apiVersion;
  return typeof apiVersion === 'string' && apiVersion.startsWith(KIND_GROUP);
}

type Path = Array<string | number>;
type Fields = Record<string, unknown>;

/**
 * Reads one object of a kind config: each known key is handed to its reader, which returns nothing to
 * honour it or throws to refuse it; a key no reader takes is refused as unknown. Nothing is dropped.
 */
function readObject(value: unknown, path: Path, readers: Record<string, (child: unknown, childPath: Path) => void>): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new KindFieldError(path, 'must be a mapping');
  for (const [key, child] of Object.entries(value as Fields)) {
    const reader = readers[key];
    if (!reader) throw new KindFieldError([...path, key], `unknown field "${key}" (not a kind ${KIND_API_VERSION} field kiab knows)`);
    if (child !== undefined && child !== null) reader(child, [...path, key]);
  }
}

function list(value: unknown, path: Path): unknown[] {
  if (!Array.isArray(value)) throw new KindFieldError(path, 'must be a list');
  return value;
}

function string(value: unknown, path: Path): string {
  if (typeof value !== 'string') throw new KindFieldError(path, 'must be a string');
  return value;
}

/** kind's networking fields kiab has no setting for. */
const NETWORK_LATER = 'kiab has no such setting: remove it';

function networking(value: unknown, path: Path, spec: ClusterSpecInput): void {
  readObject(value, path, {
    // The same families and names as kiab's networking.ipFamily, which checks the value.
    ipFamily: (child, at) => {
      (spec.networking ??= {}).ipFamily = string(child, at) as never;
    },
    // The same modes and meaning as kiab's networking.kubeProxyMode, which checks the value.
    kubeProxyMode: (child, at) => {
      (spec.networking ??= {}).kubeProxyMode = string(child, at) as never;
    },
    // kind's default CNI is its own, as kiab's is; leaving it out means the same: the user installs one.
    disableDefaultCNI: (child, at) => {
      if (typeof child !== 'boolean') throw new KindFieldError(at, 'must be true or false');
      if (child) (spec.networking ??= {}).cni = 'none';
    },
    // The same meaning as kiab's networking.podSubnet and serviceSubnet, which check the values.
    podSubnet: (child, at) => {
      (spec.networking ??= {}).podSubnet = string(child, at);
    },
    serviceSubnet: (child, at) => {
      (spec.networking ??= {}).serviceSubnet = string(child, at);
    },
    dnsSearch: (_child, at) => {
      throw new KindFieldError(at, NETWORK_LATER);
    },
    apiServerPort: (child) => {
      // kind's 0 means a free port, as leaving ports.api out does.
      if (child !== 0) (spec.ports ??= {}).api = child as number;
    },
    apiServerAddress: (child, at) => {
      (spec.ports ??= {}).address = string(child, at);
    },
  });
}

const ROLES: Record<string, 'server' | 'worker'> = { 'control-plane': 'server', worker: 'worker' };

interface KindOptions {
  /** Where relative host paths of mounts start from: kind takes them relative to the directory it runs in. */
  cwd: string;
}

type NodeInput = NonNullable<ClusterSpecInput['nodes']>[number];

function kindNode(value: unknown, path: Path, options: KindOptions): NodeInput {
  const node: NodeInput = { role: 'server' };
  readObject(value, path, {
    role: (child, at) => {
      const role = ROLES[string(child, at)];
      if (!role) throw new KindFieldError(at, `"${String(child)}" is not a role; choose control-plane or worker`);
      node.role = role;
    },
    image: (child, at) => {
      // kiab makes its own machines: a kind node image only names the release, and kiab runs the newest patch
      // of that minor it knows, as a minor given to --k8s-version does.
      const minor = /(?:^|\/)node:v(1\.\d+)\.\d+(?:@sha256:[0-9a-f]{64})?$/.exec(string(child, at))?.[1];
      if (!minor)
        throw new KindFieldError(
          at,
          "only kind's own node images (kindest/node:vX.Y.Z) name a release kiab runs: choose it with kubernetesVersion or --k8s-version",
        );
      node.kubernetesVersion = minor;
    },
    labels: (child) => {
      node.labels = child as Record<string, string>;
    },
    extraMounts: (child, at) => {
      node.mounts = list(child, at).map((mount, index) => kindMount(mount, [...at, index], options));
    },
    extraPortMappings: (child, at) => {
      node.portMappings = list(child, at).map((mapping, index) => kindPortMapping(mapping, [...at, index]));
    },
    kubeadmConfigPatches: (child) => {
      node.kubeadmConfigPatches = child as string[];
    },
    kubeadmConfigPatchesJSON6902: (_child, at) => {
      throw new KindFieldError(at, 'kiab takes JSON 6902 patches cluster-wide only: move them to the top-level kubeadmConfigPatchesJSON6902');
    },
  });
  return node;
}

type MountInput = NonNullable<NodeInput['mounts']>[number];

function kindMount(value: unknown, path: Path, options: KindOptions): MountInput {
  const mount: Partial<MountInput> = {};
  readObject(value, path, {
    hostPath: (child, at) => {
      const hostPath = string(child, at);
      mount.hostPath = isAbsolute(hostPath) ? hostPath : resolve(options.cwd, hostPath);
    },
    containerPath: (child) => {
      mount.machinePath = child as string;
    },
    readOnly: (child) => {
      mount.readOnly = child as boolean;
    },
    propagation: (child) => {
      mount.propagation = child as MountInput['propagation'];
    },
    selinuxRelabel: (child, at) => {
      // Machines run with SELinux labelling off, so relabelling has nothing to do; asking for it is refused.
      if (child !== false) throw new KindFieldError(at, 'machines run without SELinux labels, so there is nothing to relabel: remove it');
    },
  });
  if (mount.hostPath === undefined) throw new KindFieldError([...path, 'hostPath'], 'is required');
  if (mount.machinePath === undefined) throw new KindFieldError([...path, 'containerPath'], 'is required');
  return mount as MountInput;
}

type PortMappingInput = NonNullable<NodeInput['portMappings']>[number];

function kindPortMapping(value: unknown, path: Path): PortMappingInput {
  const mapping: Partial<PortMappingInput> = {};
  readObject(value, path, {
    containerPort: (child) => {
      mapping.machinePort = child as number;
    },
    hostPort: (child, at) => {
      if (child === 0) throw new KindFieldError(at, 'kiab maps fixed host ports only: name one');
      mapping.hostPort = child as number;
    },
    listenAddress: (child) => {
      mapping.listenAddress = child as string;
    },
    protocol: (child, at) => {
      if (child === 'SCTP') throw new KindFieldError(at, 'SCTP mappings are not supported: use TCP or UDP');
      mapping.protocol = child as PortMappingInput['protocol'];
    },
  });
  if (mapping.hostPort === undefined) throw new KindFieldError([...path, 'hostPort'], 'kiab maps fixed host ports only: name one');
  if (mapping.machinePort === undefined) throw new KindFieldError([...path, 'containerPort'], 'is required');
  return mapping as PortMappingInput;
}

/**
 * A kind `Cluster` (kind.x-k8s.io/v1alpha4) as kiab.yaml input: each field with kind's meaning, or a
 * KindFieldError naming the first field kiab cannot honour. Values are checked afterwards by the kiab schema,
 * whose paths `kindPathOf` turns back into the kind file's.
 */
export function kindToSpec(value: unknown, options: KindOptions): ClusterSpecInput {
  // kind makes kubeadm clusters, with a default storage class and nothing else beyond Kubernetes.
  const spec: ClusterSpecInput = { distribution: 'kubeadm', addons: ['storage'] };
  let nodes: NodeInput[] | undefined;
  readObject(value, [], {
    kind: (child, at) => {
      if (child !== 'Cluster') throw new KindFieldError(at, `"${String(child)}": a kind config file holds kind: Cluster`);
    },
    apiVersion: (child, at) => {
      if (child !== KIND_API_VERSION) throw new KindFieldError(at, `"${String(child)}": kiab reads ${KIND_API_VERSION} only`);
    },
    name: (child, at) => {
      spec.name = string(child, at);
    },
    nodes: (child, at) => {
      nodes = list(child, at).map((node, index) => kindNode(node, [...at, index], options));
    },
    networking: (child, at) => networking(child, at, spec),
    featureGates: (child) => {
      spec.featureGates = child as Record<string, boolean>;
    },
    runtimeConfig: (child) => {
      spec.runtimeConfig = child as Record<string, string>;
    },
    kubeadmConfigPatches: (child) => {
      spec.kubeadmConfigPatches = child as string[];
    },
    kubeadmConfigPatchesJSON6902: (child) => {
      spec.kubeadmConfigPatchesJSON6902 = child as NonNullable<ClusterSpecInput['kubeadmConfigPatchesJSON6902']>;
    },
    containerdConfigPatches: (child) => {
      spec.containerdConfigPatches = child as string[];
    },
    containerdConfigPatchesJSON6902: (_child, at) => {
      throw new KindFieldError(at, 'kiab merges containerd TOML only: write the change as a containerdConfigPatches entry');
    },
  });
  if (nodes === undefined || nodes.length === 0) nodes = [{ role: 'server' }];
  // In kind the control plane's image is the cluster's release; in kiab.yaml that is kubernetesVersion.
  const release = nodes.find((node) => node.role === 'server' && node.kubernetesVersion !== undefined)?.kubernetesVersion;
  if (release !== undefined) spec.kubernetesVersion = release;
  // Nodes that only say their role are counted, not listed: kiab.yaml stays as short as the kind file.
  const shaped = nodes.some((node) => Object.keys(node).length > 1);
  const count = (role: string): number => nodes!.filter((node) => node.role === role).length;
  return shaped ? { ...spec, nodes } : { ...spec, servers: count('server'), workers: count('worker') };
}

const KIND_NAMES: Record<string, string> = {
  mounts: 'extraMounts',
  machinePath: 'containerPath',
  portMappings: 'extraPortMappings',
  machinePort: 'containerPort',
};

/** A kiab field's path in terms of the kind file it came from, for messages about its value. */
export function kindPathOf(path: Array<string | number>): Array<string | number> {
  if (path[0] === 'ports' && path[1] === 'api') return ['networking', 'apiServerPort'];
  if (path[0] === 'ports' && path[1] === 'address') return ['networking', 'apiServerAddress'];
  return path.map((part) => (typeof part === 'string' ? (KIND_NAMES[part] ?? part) : part));
}
