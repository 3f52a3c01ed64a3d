import { UsageError } from '../errors.js';
import type { DistributionName } from '../spec/schema.js';
import { kubeadmDistribution } from './kubeadm/index.js';
import { noneDistribution } from './none.js';
import type { Distribution } from './types.js';

export type { Distribution, DistributionContext, MachineRef, NodeImagePlan } from './types.js';

/** A distribution the spec may name but this build cannot install yet: refused before anything is created. */
function notYetAvailable(name: DistributionName): Distribution {
  return {
    ...noneDistribution,
    name,
    preflight: async () => {
      throw new UsageError(`--k8s ${name}: the ${name} distribution is not available in this version of kiab`, 'use --k8s none for bare machines');
    },
  };
}

export function distributionFor(name: DistributionName): Distribution {
  switch (name) {
    case 'none':
      return noneDistribution;
    case 'kubeadm':
      return kubeadmDistribution;
    case 'k3s':
      return notYetAvailable(name);
  }
}
