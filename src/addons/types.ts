import type { KubernetesObject, V1APIService, V1CustomResourceDefinition, V1Toleration } from '@kubernetes/client-node';
import type { AddonName } from '../spec/schema.js';
import type { ComponentName } from './components.js';

/** What the addons' objects depend on in a cluster. */
export interface AddonSettings {
  /** The first three octets of the cluster's /24: the load balancer pool is PREFIX.200-PREFIX.250. */
  subnetPrefix: string;
  /** The IP families of the cluster's Services: the pool holds the IPv6 twins of its addresses where they have IPv6. */
  families?: { ipv4: boolean; ipv6: boolean };
  /** The box's address, which Ingresses report as theirs (the box forwards 80 and 443 to the ingress machines). */
  boxIp: string;
  /** With workers, ingress runs on every worker; without, on the servers. */
  hasWorkers: boolean;
  /** The metrics API's serving certificate and the CA the API server checks it against. */
  metricsTls: { caPem: string; certPem: string; keyPem: string };
  /** MetalLB's CustomResourceDefinitions, from the asset set. */
  metallbDefinitions: V1CustomResourceDefinition[];
  /** Gateway API's CustomResourceDefinitions (standard channel), from the asset set. */
  gatewayDefinitions: V1CustomResourceDefinition[];
}

export interface NamespacedName {
  namespace: string;
  name: string;
}

/** How to tell that an addon works: its workloads are ready and its API services available. */
export interface AddonProbe {
  /** What provides it, for status ("local-path-provisioner v0.0.30", "k3s"). */
  component: string;
  deployments: NamespacedName[];
  daemonSets: NamespacedName[];
  apiServices: string[];
  /** Objects that must exist (a default StorageClass, an IngressClass), as apiVersion/kind/name. */
  present: Array<{ apiVersion: string; kind: string; name: string }>;
}

/** Which machines need an image: all, the servers (where the addons' single controllers run), or where ingress runs. */
export type ImagePlacement = 'all' | 'servers' | 'ingress';

/** One addon as kiab installs it. */
export interface AddonManifest {
  name: AddonName;
  /** Definitions applied first and awaited until established. */
  definitions: V1CustomResourceDefinition[];
  /** Everything else, in apply order (namespaces first, custom resources last). */
  objects: KubernetesObject[];
  /**
   * The aggregated APIs it serves, registered once the cluster's install is done: from registration until its
   * server answers, a discovery of every API (any kubectl) may wait on it.
   */
  registrations: V1APIService[];
  probe: AddonProbe;
}

/** The images an addon's parts run, and on which machines: known before any manifest is made (images are preloaded). */
export type AddonImages = ReadonlyArray<{ component: ComponentName; on: ImagePlacement }>;

/**
 * The addons' single controllers (not their per-node agents) run on the servers: their images are then
 * needed there only, and a worker added later needs only the agents'.
 */
export const ON_SERVERS: { nodeSelector: Record<string, string>; tolerations: V1Toleration[] } = {
  nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
  tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
};

/** Labels on every object kiab applies for an addon. */
export function addonLabels(addon: AddonName, app: string): Record<string, string> {
  return { 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': `kiab-${addon}`, 'app.kubernetes.io/managed-by': 'kiab' };
}
