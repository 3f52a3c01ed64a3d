import { UsageError } from '../errors.js';
import type { ClusterSpec, DistributionName } from '../spec/schema.js';

/** Spec fields that only some distributions act on, with a test of whether the spec sets them. */
const FIELDS: Record<string, (spec: ClusterSpec) => string | undefined> = {
  featureGates: (spec) => (spec.featureGates ? 'featureGates' : undefined),
  runtimeConfig: (spec) => (spec.runtimeConfig ? 'runtimeConfig' : undefined),
  kubeadmConfigPatches: (spec) =>
    spec.kubeadmConfigPatches?.length
      ? 'kubeadmConfigPatches'
      : spec.kubeadmConfigPatchesJSON6902?.length
        ? 'kubeadmConfigPatchesJSON6902'
        : nodeField(spec, (node) => node.kubeadmConfigPatches.length > 0, 'kubeadmConfigPatches'),
  containerdConfigPatches: (spec) => (spec.containerdConfigPatches?.length ? 'containerdConfigPatches' : undefined),
  registries: (spec) => (Object.keys(spec.registries?.mirrors ?? {}).length > 0 ? 'registries.mirrors' : undefined),
  apiServer: (spec) => (spec.apiServer?.certSANs.length ? 'apiServer.certSANs' : undefined),
  labels: (spec) => nodeField(spec, (node) => Object.keys(node.labels).length > 0, 'labels'),
  taints: (spec) => nodeField(spec, (node) => node.taints.length > 0, 'taints'),
  kubernetesVersion: (spec) => nodeField(spec, (node) => node.kubernetesVersion !== undefined, 'kubernetesVersion'),
};

function nodeField(spec: ClusterSpec, has: (node: ClusterSpec['nodes'][number]) => boolean, field: string): string | undefined {
  const at = spec.nodes.findIndex(has);
  return at < 0 ? undefined : `nodes.${at}.${field}`;
}

/** Refuses, by field, a setting that `distribution` would otherwise leave undone. */
export function refuseUnsupported(spec: ClusterSpec, distribution: DistributionName, unsupported: Array<keyof typeof FIELDS>): void {
  for (const name of unsupported) {
    const field = FIELDS[name]!(spec);
    if (field) throw new UsageError(`${field}: the ${distribution} distribution does not take this setting`, 'remove it, or use the kubeadm distribution');
  }
}
