import type { DistributionName } from '../spec/schema.js';
import { k3sDistribution } from './k3s/index.js';
import { kubeadmDistribution } from './kubeadm/index.js';
import { noneDistribution } from './none.js';
import type { Distribution } from './types.js';

export type { AssetRequest, AssetSet, Distribution, DistributionContext, ImagePreload, MachineRef, NodeImagePlan } from './types.js';

export function distributionFor(name: DistributionName): Distribution {
  switch (name) {
    case 'none':
      return noneDistribution;
    case 'kubeadm':
      return kubeadmDistribution;
    case 'k3s':
      return k3sDistribution;
  }
}
