import { UsageError } from '../errors.js';
import type { Distribution } from './types.js';

const noAssets = async (): Promise<never> => {
  throw new UsageError('--k8s: none runs no Kubernetes and has no assets', 'choose --k8s kubeadm or --k8s k3s');
};

/** Bare machines: systemd, containerd and the registry wiring, nothing else ("Kubernetes the hard way"). */
export const noneDistribution: Distribution = {
  name: 'none',
  defaultVersion: undefined,
  kubernetes: false,
  systemPods: [],
  preflight: async () => undefined,
  nodeImage: async () => undefined,
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
