import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { kubernetesClient } from '../kubeclient/index.js';
import { ADDONS, type AddonName, type ClusterSpec } from '../spec/schema.js';
import type { MachineRole } from '../labels.js';
import { COMPONENTS, type ComponentName } from './components.js';
import { INGRESS_IMAGES, ingressAddon } from './ingress.js';
import { LOADBALANCER_IMAGES, loadBalancerAddon } from './loadbalancer.js';
import { METRICS_IMAGES, metricsAddon } from './metrics.js';
import { STORAGE_IMAGES, storageAddon } from './storage.js';
import type { AddonImages, AddonManifest, AddonSettings } from './types.js';

export { ADDONS, type AddonName };
export { ADDON_SET_VERSION, COMPONENTS, DEFINITION_SETS, GATEWAY_API, METALLB_MANIFEST, type ComponentName } from './components.js';
export { LOCAL_PATH_DIR } from './storage.js';
export { METRICS_SERVICE_DNS, METRICS_TLS_SECRET } from './metrics.js';
export { networkPolicyManifest, NETWORK_POLICY_CONTROLLER, NETWORK_POLICY_QUEUE, type NetworkPolicyOptions } from './network-policy.js';
export type { AddonManifest, AddonProbe, AddonSettings, NamespacedName } from './types.js';

/** The addons a spec asks for, in kiab's order: all of them unless it lists some (or none). */
export function requestedAddons(spec: Pick<ClusterSpec, 'addons'>): AddonName[] {
  const asked = new Set(spec.addons ?? ADDONS);
  return ADDONS.filter((addon) => asked.has(addon));
}

/** Each wanted addon's objects, in the order they are applied. */
export function addonManifests(wanted: readonly AddonName[], settings: AddonSettings): AddonManifest[] {
  const build: Record<AddonName, (settings: AddonSettings) => AddonManifest> = {
    storage: storageAddon,
    metrics: metricsAddon,
    loadbalancer: loadBalancerAddon,
    ingress: ingressAddon,
  };
  return wanted.map((addon) => build[addon](settings));
}

const ADDON_IMAGES_BY_ADDON: Record<AddonName, AddonImages> = {
  storage: STORAGE_IMAGES,
  metrics: METRICS_IMAGES,
  loadbalancer: LOADBALANCER_IMAGES,
  ingress: INGRESS_IMAGES,
};

/** The images one machine of a cluster with (or without) workers needs for the given addons. */
export function imagesFor(wanted: readonly AddonName[], role: MachineRole, hasWorkers: boolean): ComponentName[] {
  const runsIngress = role === 'worker' || !hasWorkers;
  const needed = wanted.flatMap((addon) =>
    ADDON_IMAGES_BY_ADDON[addon].filter(({ on }) => on === 'all' || (on === 'servers' && role === 'server') || (on === 'ingress' && runsIngress)),
  );
  return [...new Set(needed.map(({ component }) => component))];
}

/**
 * The CustomResourceDefinitions in a manifest: MetalLB's native one (its other objects are kiab's own, in
 * loadbalancer.ts) or one of Gateway API's files.
 */
export async function definitionsIn(manifest: string): Promise<V1CustomResourceDefinition[]> {
  // client-node's loader gives typed objects, so their fields survive its serialiser on the way back out.
  const { loadAllYaml } = await kubernetesClient();
  return (loadAllYaml(manifest) as Array<{ kind?: string }>).filter((object) => object?.kind === 'CustomResourceDefinition') as V1CustomResourceDefinition[];
}

/** Every image reference the addons use, for the asset set and for checks. */
export const ADDON_IMAGES: Record<ComponentName, string> = Object.fromEntries(
  Object.entries(COMPONENTS).map(([name, component]) => [name, component.image]),
) as Record<ComponentName, string>;
