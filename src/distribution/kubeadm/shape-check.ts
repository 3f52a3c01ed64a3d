import { UsageError } from '../../errors.js';
import type { ClusterSpec } from '../../spec/schema.js';
import type { MachineRef } from '../types.js';
import { initDocuments, joinDocument, kubeProxyDocument, shapedDocuments, type ClusterFacts } from './config.js';
import type { KubeadmDocument } from './patches.js';

/** Stand-ins for what only `up` knows (addresses, tokens): the documents' kinds and shapes do not depend on them. */
const NOTIONAL = { ip: '10.0.0.1', token: 'abcdef.0123456789abcdef', key: '0'.repeat(64) };

/**
 * Applies the spec's kubeadm patches to the documents each of the cluster's machines gets, before anything is
 * made: a patch that fails is refused by its field, and so is one that changes no document (a kind or
 * apiVersion kiab does not write, or a node patch for a document its machine does not get).
 */
export function checkKubeadmPatches(spec: ClusterSpec, kubernetesVersion: string): void {
  const facts: ClusterFacts = {
    clusterName: spec.name,
    kubernetesVersion,
    boxHostname: 'box',
    boxIp: NOTIONAL.ip,
    externalAddresses: [],
    controlPlaneEndpoint: 'box:6443',
    untaintServers: spec.workers === 0,
    shape: spec,
  };
  const machine = (role: MachineRef['role'], index: number): MachineRef => ({ name: `${role}-${index}`, role, index, ip: NOTIONAL.ip });
  const documentsOf = (ref: MachineRef): KubeadmDocument[] => [
    ...(ref.role === 'server' && ref.index === 0 ? initDocuments(ref, facts, NOTIONAL.key) : [joinDocument(ref, facts, NOTIONAL.token, NOTIONAL.key)]),
    kubeProxyDocument(ref, spec),
  ];
  const machines = [
    ...Array.from({ length: spec.servers }, (_, index) => machine('server', index)),
    ...Array.from({ length: spec.workers }, (_, index) => machine('worker', index)),
  ];
  // A cluster-wide patch may be for a document of a machine the cluster gets later (a worker's join): one of each counts.
  const notional = [machine('server', 0), machine('server', 1), machine('worker', 0)];
  const matched = new Set<string>();
  for (const ref of [...machines, ...notional]) for (const field of shapedDocuments(ref, facts, documentsOf(ref)).matched) matched.add(field);
  const fields = [
    ...(spec.kubeadmConfigPatches ?? []).map((_, index) => `kubeadmConfigPatches.${index}`),
    ...(spec.kubeadmConfigPatchesJSON6902 ?? []).map((_, index) => `kubeadmConfigPatchesJSON6902.${index}`),
    ...spec.nodes.flatMap((node, at) => node.kubeadmConfigPatches.map((_, index) => `nodes.${at}.kubeadmConfigPatches.${index}`)),
  ];
  const unmatched = fields.find((field) => !matched.has(field));
  if (unmatched)
    throw new UsageError(
      `${unmatched}: changes no kubeadm document of its machines`,
      'kiab writes kubeadm.k8s.io/v1beta4 InitConfiguration and ClusterConfiguration (first server), JoinConfiguration (the others), kubelet.config.k8s.io/v1beta1 KubeletConfiguration and kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration',
    );
}
