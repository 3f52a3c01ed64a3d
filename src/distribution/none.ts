import { UsageError } from '../errors.js';
import type { InotifyNeed } from '../host/inotify.js';
import { refuseUnsupported } from './shape-support.js';
import type { Distribution } from './types.js';

/** What one bare machine takes from the host's inotify limits (measured with `kiab up --k8s none`: about 6 and 22). */
export const BARE_MACHINE_INOTIFY: InotifyNeed = { instances: 7, watches: 40 };

const noAssets = async (): Promise<never> => {
  throw new UsageError('--k8s: none runs no Kubernetes and has no assets', 'choose --k8s kubeadm or --k8s k3s');
};

/** Bare machines: systemd, containerd and the registry wiring, nothing else ("Kubernetes the hard way"). */
export const noneDistribution: Distribution = {
  name: 'none',
  defaultVersion: undefined,
  resolveVersion: () => undefined,
  kubernetes: false,
  // Bare machines get nothing installed: as created, they are as clean as they get.
  cleanAsCreated: true,
  bundledAddons: {},
  systemPods: [],
  // Nothing is known to listen: the box tries each machine and skips one that refuses.
  health: {},
  apiCertificateAuthority: async () => undefined,
  // Bare machines have their containerd (patches and mirrors apply) but no Kubernetes to shape.
  preflight: async ({ spec }) =>
    refuseUnsupported(spec, 'none', ['featureGates', 'runtimeConfig', 'kubeadmConfigPatches', 'apiServer', 'labels', 'taints', 'kubernetesVersion']),
  nodeImage: async () => undefined,
  // Measured: systemd, journald, udev-less containerd and friends of one bare machine.
  inotifyNeed: () => BARE_MACHINE_INOTIFY,
  machineVolumes: () => [],
  machineFiles: () => [],
  install: async () => undefined,
  join: async () => undefined,
  leave: async () => undefined,
  membershipChanged: async () => undefined,
  adminKubeconfig: async () => undefined,
  diagnose: async () => '',
  // The k8s.io namespace is the one a kubelet's CRI reads, so images loaded here serve both ctr and Kubernetes.
  ctr: () => ['ctr', '--namespace', 'k8s.io'],
  buildAssets: noAssets,
  pullAssets: noAssets,
  importAssets: noAssets,
};
