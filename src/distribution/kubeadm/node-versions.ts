import { hostArch, verifiedAssets } from '../../assets/cache.js';
import { KiabError, UsageError } from '../../errors.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { nodeOf } from '../../spec/shape.js';
import type { DistributionContext, MachineRef } from '../types.js';
import { kubeadmVersion } from './assets.js';
import { stageBinaries, swapBinaries } from './release-binaries.js';
import { minorOf, resolveRelease } from './releases.js';

/*
 * A worker whose node entry names its own `kubernetesVersion` runs that release's kubelet, kube-proxy and
 * kubectl beside a control plane of the cluster's release, as nodes do halfway through an upgrade, or as a
 * user tests version skew. It joins with the cluster's kubeadm (which writes the cluster's kubelet
 * configuration); its own binaries go in just before.
 */

/** How many minors a kubelet may trail its API server: Kubernetes' version skew policy. */
const KUBELET_SKEW = 3;

/** What a node of another release runs of it: the control plane and kubeadm stay the cluster's. */
const NODE_AGENT_BINARIES = ['kubelet', 'kube-proxy', 'kubectl'] as const;

/**
 * The releases the spec's node entries name other than the cluster's, each checked against the skew policy
 * and refused by its field: a server's (it runs the control plane), one newer than the cluster's, or one more
 * than three minors older.
 */
export function otherNodeReleases(spec: ClusterSpec): string[] {
  const cluster = kubeadmVersion(spec);
  const releases = new Set<string>();
  for (const [at, node] of spec.nodes.entries()) {
    if (node.kubernetesVersion === undefined) continue;
    const field = `nodes.${at}.kubernetesVersion`;
    const version = resolveRelease(node.kubernetesVersion, field).version;
    if (version === cluster) continue;
    if (node.role === 'server')
      throw new UsageError(`${field}: a server runs the control plane, at the cluster's version (${cluster}); only a worker's may differ`);
    const behind = minorOf(cluster) - minorOf(version);
    if (behind < 0) throw new UsageError(`${field}: ${version} is newer than the cluster's ${cluster}, and a kubelet may not be newer than its API server`);
    if (behind > KUBELET_SKEW)
      throw new UsageError(
        `${field}: ${version} is ${behind} minors older than the cluster's ${cluster}; a kubelet may trail its API server by ${KUBELET_SKEW} at most`,
      );
    releases.add(version);
  }
  return [...releases];
}

/** The release a machine's kubelet runs once joined: its node entry's, or the cluster's. */
export function machineRelease(spec: ClusterSpec, machine: MachineRef): string {
  const own = nodeOf(spec, machine.role, machine.index)?.kubernetesVersion;
  return own === undefined ? kubeadmVersion(spec) : resolveRelease(own).version;
}

/** Before a join: the node entry's release of the node agent in place of the cluster's, where it names another. */
export async function placeNodeRelease(context: DistributionContext, machine: MachineRef): Promise<void> {
  const release = machineRelease(context.spec, machine);
  if (release === kubeadmVersion(context.spec)) return;
  const assets = await verifiedAssets({ distribution: 'kubeadm', version: release, arch: hostArch() });
  // The preflight pulled or refused it already: missing here means the cache changed since.
  if (!assets) throw new KiabError(`no kubeadm assets for Kubernetes ${release} in the cache, which ${machine.name} runs`);
  context.progress(`Kubernetes ${release} node agent on ${machine.name}`);
  await stageBinaries(context, machine, assets.dir, release, NODE_AGENT_BINARIES);
  await swapBinaries(context, machine, release, NODE_AGENT_BINARIES);
}
