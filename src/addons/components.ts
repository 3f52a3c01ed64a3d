import { createHash } from 'node:crypto';

/**
 * The upstream programs behind the addons, under the image names their projects publish, so the manifests
 * are the same whether the images were compiled here from the Go modules (kubebuild/addons/) or pulled.
 * Each built image puts its binary where the official image has it and runs it the same way.
 */
export interface AddonComponent {
  /** The image reference, normalised as containerd stores it. */
  image: string;
  /** The kubebuild/addons/build.sh output it is made from; absent for the helper image made from Debian's busybox. */
  binary?: string;
  /** Where the binary sits in the image, and the entrypoint, as in the official image. */
  path: string;
  entrypoint: string[];
}

/**
 * Traefik v3.7.x needs github.com/traefik/traefik/dynamic/ext, a nested module its repository replaces with a
 * local path and the module proxy does not serve, so v3.6 (the newest line that builds from the proxy) it is.
 * MetalLB v0.16.x needs github.com/metallb/frr-k8s v0.0.27, which the proxy does not serve either; v0.15.2 builds
 * against v0.0.21, the proxy's newest (see kubebuild/addons/README.md).
 */
export const COMPONENTS = {
  traefik: { image: 'docker.io/library/traefik:v3.6.12', binary: 'traefik', path: '/usr/local/bin/traefik', entrypoint: ['/usr/local/bin/traefik'] },
  'metallb-controller': { image: 'quay.io/metallb/controller:v0.15.2', binary: 'metallb-controller', path: '/controller', entrypoint: ['/controller'] },
  'metallb-speaker': { image: 'quay.io/metallb/speaker:v0.15.2', binary: 'metallb-speaker', path: '/speaker', entrypoint: ['/speaker'] },
  'local-path-provisioner': {
    image: 'docker.io/rancher/local-path-provisioner:v0.0.30',
    binary: 'local-path-provisioner',
    path: '/usr/bin/local-path-provisioner',
    entrypoint: ['local-path-provisioner'],
  },
  'metrics-server': {
    image: 'registry.k8s.io/metrics-server/metrics-server:v0.8.0',
    binary: 'metrics-server',
    path: '/metrics-server',
    entrypoint: ['/metrics-server'],
  },
  // The pod network's NetworkPolicy controller (kubeadm clusters run it with or without the addons; k3s has its own).
  'kube-network-policies': {
    image: 'registry.k8s.io/networking/kube-network-policies:v0.8.0',
    binary: 'kube-network-policies',
    path: '/bin/netpol',
    entrypoint: ['/bin/netpol'],
  },
  // local-path-provisioner's helper pods (mkdir and rm -rf of a volume's directory) run /bin/sh from it.
  busybox: { image: 'docker.io/library/busybox:1.37.0', path: '/bin/busybox', entrypoint: ['sh'] },
} as const satisfies Record<string, AddonComponent>;

export type ComponentName = keyof typeof COMPONENTS;
export const COMPONENT_NAMES = Object.keys(COMPONENTS) as ComponentName[];

/** MetalLB's CustomResourceDefinitions, from the manifest its release publishes (also in its Go module). */
export const METALLB_MANIFEST = {
  module: 'go.universe.tf/metallb',
  version: 'v0.15.2',
  path: 'config/manifests/metallb-native.yaml',
  /** Below the release site (KIAB_METALLB_RELEASE_URL points at a mirror of https://raw.githubusercontent.com/metallb/metallb). */
  releasePath: '/v0.15.2/config/manifests/metallb-native.yaml',
  sha256: 'a1b04c376fb39c93265f551fe23716a3ae6e09b790edb3bf257d3fc784c35a18',
} as const;

/**
 * CustomResourceDefinitions kiab installs, as one Go module kiab builds against holds them: `kiab assets build`
 * copies them from that module (in the kubebuild module named `builtWith`), `kiab assets pull` downloads them
 * from upstream's repository at the same version, and either way each file must have the module copy's sum.
 */
export interface DefinitionSet {
  /** The folder under the set's manifests/, and build.sh's name for them. */
  name: string;
  /** For messages: "Gateway API v1.4.0". */
  title: string;
  module: string;
  version: string;
  /** Upstream's repository as raw files, and the variable that points it at a mirror. */
  releaseBase: string;
  releaseBaseVariable: string;
  /** Below the release base: the version's folder of definitions. */
  releaseDir: string;
  /** Each file and its sha256. */
  files: Readonly<Record<string, string>>;
}

/**
 * Gateway API's standard channel, at the version Traefik's Gateway provider is built against (Traefik's go.mod):
 * its CustomResourceDefinitions, each file as the module's config/crd/standard and the release tag hold it.
 */
export const GATEWAY_API = {
  name: 'gateway-api',
  title: 'Gateway API v1.4.0',
  module: 'sigs.k8s.io/gateway-api',
  version: 'v1.4.0',
  releaseBase: 'https://raw.githubusercontent.com/kubernetes-sigs/gateway-api',
  releaseBaseVariable: 'KIAB_GATEWAY_API_RELEASE_URL',
  releaseDir: '/v1.4.0/config/crd/standard',
  files: {
    'gateway.networking.k8s.io_gatewayclasses.yaml': '2f61e8c8c2289843a61d7b1bba31f8a5a46dbf20a1c54359209d638d3bd899c9',
    'gateway.networking.k8s.io_gateways.yaml': 'b0e29566bbe07fbe4ede55c2eff73865bd566f3063736ec9046224d7e20d6f88',
    'gateway.networking.k8s.io_httproutes.yaml': 'c2539410dec72b793ef840f484c19d13b48210074ec801b730e9fce2c5fc825c',
    'gateway.networking.k8s.io_grpcroutes.yaml': 'dc114a794b2bf2565489c3182d4b173590ea01348f986daf42c7bc0505521d26',
    'gateway.networking.k8s.io_referencegrants.yaml': '3a59dcc699c2d01b19f13233943597f69de25420495ab3d4af7de7997bd807cc',
    'gateway.networking.k8s.io_backendtlspolicies.yaml': '59d7cf1d99e1337e6d6a19c6306172d8f7ff2d9f920142a88ef9ba597d6d97bb',
  },
} as const satisfies DefinitionSet;

/**
 * AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1), at the version
 * kube-network-policies v0.8.0 is built against (its go.mod: a commit of the repository, so the raw files are
 * taken at that commit).
 */
export const NETWORK_POLICY_API = {
  name: 'network-policy-api',
  title: 'Network Policy API v0.1.6-0.20250401132235-45061d10895e',
  module: 'sigs.k8s.io/network-policy-api',
  version: 'v0.1.6-0.20250401132235-45061d10895e',
  releaseBase: 'https://raw.githubusercontent.com/kubernetes-sigs/network-policy-api',
  releaseBaseVariable: 'KIAB_NETWORK_POLICY_API_RELEASE_URL',
  releaseDir: '/45061d10895edce7c9c5005e1a0c906d6555f28e/config/crd/standard',
  files: {
    'policy.networking.k8s.io_adminnetworkpolicies.yaml': '700176b3012c2c6c3868af749b9b0c610f69c76a6eb55181358b53892025257a',
    'policy.networking.k8s.io_baselineadminnetworkpolicies.yaml': 'c7d3b9ca3522358bc393add01ee7a4f53de9a430b464401eb5680fcb5e838aef',
  },
} as const satisfies DefinitionSet;

/** Every set of definitions the addon asset set carries. */
export const DEFINITION_SETS: readonly DefinitionSet[] = [GATEWAY_API, NETWORK_POLICY_API];

/** The asset set's version: a new component or image name makes a new set, so a cache never mixes two. */
export const ADDON_SET_VERSION = createHash('sha256')
  .update(JSON.stringify([COMPONENTS, METALLB_MANIFEST.version, ...DEFINITION_SETS.map((set) => set.version)]))
  .digest('hex')
  .slice(0, 12);
