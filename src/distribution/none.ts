import type { Distribution } from './types.js';

/** Bare machines: systemd, containerd and the registry wiring, nothing else ("Kubernetes the hard way"). */
export const noneDistribution: Distribution = {
  name: 'none',
  preflight: async () => undefined,
  machineVolumes: () => [],
  machineFiles: () => [],
  install: async () => undefined,
  join: async () => undefined,
  leave: async () => undefined,
};
