import { ADDONS, requestedAddons, type AddonName, type AddonProbe } from '../../addons/index.js';
import type { ClusterSpec } from '../../spec/schema.js';

/** What k3s calls each addon it bundles, for its `disable` setting. */
const K3S_COMPONENT: Record<AddonName, string> = {
  ingress: 'traefik',
  storage: 'local-storage',
  loadbalancer: 'servicelb',
  metrics: 'metrics-server',
};

const deployment = (name: string) => ({ namespace: 'kube-system', name });

/**
 * k3s's own addons, kept as k3s ships them: Traefik (behind servicelb, whose per-node pods take 80 and 443 of
 * every node, so the box's forwarding lands on it), local-path, servicelb and metrics-server. servicelb runs
 * inside the k3s server and makes its pods per Service, so there is nothing standing to probe for it.
 */
export const K3S_BUNDLED_ADDONS: Record<AddonName, AddonProbe> = {
  ingress: { component: 'k3s (Traefik)', deployments: [deployment('traefik')], daemonSets: [], apiServices: [], present: [] },
  storage: {
    component: 'k3s (local-path-provisioner)',
    deployments: [deployment('local-path-provisioner')],
    daemonSets: [],
    apiServices: [],
    present: [{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: 'local-path' }],
  },
  loadbalancer: { component: 'k3s (servicelb)', deployments: [], daemonSets: [], apiServices: [], present: [] },
  metrics: {
    component: 'k3s (metrics-server)',
    deployments: [deployment('metrics-server')],
    daemonSets: [],
    apiServices: ['v1beta1.metrics.k8s.io'],
    present: [],
  },
};

/** k3s's `disable` list: its bundled addons the spec does not want. */
export function k3sDisabled(spec: Pick<ClusterSpec, 'addons'>): string[] {
  const wanted = requestedAddons(spec);
  return ADDONS.filter((addon) => !wanted.includes(addon)).map((addon) => K3S_COMPONENT[addon]);
}
