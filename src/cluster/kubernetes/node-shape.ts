import type { MachineRef } from '../../distribution/index.js';
import { kubernetesClient } from '../../kubeclient/index.js';
import { nodeOf, type TaintSpec } from '../../spec/shape.js';
import type { ClusterContext } from '../context.js';
import { kubeClients } from './kube-objects.js';
import { clusterKubeconfig } from './wait-ready.js';

/**
 * Which labels and taints on a node are the spec's, so that one the spec no longer names is removed and every
 * other (Kubernetes' own, or one a user set by hand) is left alone.
 */
const MANAGED_LABELS = 'kiab.dev/labels';
const MANAGED_TAINTS = 'kiab.dev/taints';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

const taintKey = (taint: { key: string; effect: string }): string => `${taint.key}:${taint.effect}`;

const listed = (value: string | undefined): string[] => (value ? value.split(',').filter(Boolean) : []);

/** The node's labels and taints once the spec's replace those it set before. */
export function shapedNode(
  current: { labels: Record<string, string>; annotations: Record<string, string>; taints: Taint[] },
  wanted: { labels: Record<string, string>; taints: TaintSpec[] },
): { labels: Record<string, string | null>; annotations: Record<string, string>; taints: Taint[] } {
  const labels: Record<string, string | null> = {};
  for (const key of listed(current.annotations[MANAGED_LABELS])) if (!(key in wanted.labels) && key in current.labels) labels[key] = null;
  for (const [key, value] of Object.entries(wanted.labels)) if (current.labels[key] !== value) labels[key] = value;
  const dropped = new Set([...listed(current.annotations[MANAGED_TAINTS]), ...wanted.taints.map(taintKey)]);
  const taints = [
    ...current.taints.filter((taint) => !dropped.has(taintKey(taint))),
    ...wanted.taints.map((taint) => ({ key: taint.key, effect: taint.effect, ...(taint.value === undefined ? {} : { value: taint.value }) })),
  ];
  return {
    labels,
    annotations: { [MANAGED_LABELS]: Object.keys(wanted.labels).sort().join(','), [MANAGED_TAINTS]: wanted.taints.map(taintKey).join(',') },
    taints,
  };
}

/** Gives each machine's node the labels and taints its `nodes` entry names, on the live node (no machine is made again). */
export async function applyNodeShapes(context: ClusterContext, machines: MachineRef[]): Promise<void> {
  const clients = await kubeClients(await clusterKubeconfig(context, machines));
  const { PatchStrategy } = await kubernetesClient();
  for (const machine of machines) {
    const entry = nodeOf(context.spec, machine.role, machine.index);
    const node = await clients.core.readNode({ name: machine.name });
    const current = {
      labels: node.metadata?.labels ?? {},
      annotations: node.metadata?.annotations ?? {},
      taints: (node.spec?.taints ?? []).map((taint) => ({
        key: taint.key,
        effect: taint.effect,
        ...(taint.value === undefined ? {} : { value: taint.value }),
      })),
    };
    if (!entry && !current.annotations[MANAGED_LABELS] && !current.annotations[MANAGED_TAINTS]) continue;
    const shaped = shapedNode(current, { labels: entry?.labels ?? {}, taints: entry?.taints ?? [] });
    await clients.objects.patch(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: machine.name, labels: shaped.labels as Record<string, string>, annotations: shaped.annotations },
        spec: { taints: shaped.taints },
      },
      undefined,
      undefined,
      'kiab',
      undefined,
      PatchStrategy.MergePatch,
    );
  }
}
