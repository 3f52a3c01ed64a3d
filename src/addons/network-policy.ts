import type { KubernetesObject, V1ClusterRole, V1ClusterRoleBinding, V1DaemonSet, V1ServiceAccount } from '@kubernetes/client-node';
import { COMPONENTS } from './components.js';

const NAMESPACE = 'kube-system';
export const NETWORK_POLICY_CONTROLLER = 'kube-network-policies';
const labels = {
  'app.kubernetes.io/name': NETWORK_POLICY_CONTROLLER,
  'app.kubernetes.io/part-of': 'kiab-pod-network',
  'app.kubernetes.io/managed-by': 'kiab',
  'k8s-app': NETWORK_POLICY_CONTROLLER,
};

/**
 * The netfilter queue the controller reads. The pod network's script (kiab-pod-network.sh) sends packets to the
 * same number where the kernel cannot run the controller's own nftables queue rules; a unit test keeps the two in step.
 */
export const NETWORK_POLICY_QUEUE = 100;

/**
 * sigs.k8s.io/kube-network-policies as upstream's install.yaml deploys it, one per node: it watches
 * NetworkPolicies, Pods and Namespaces and judges the first packet of each connection of a pod that a policy
 * selects (netfilter queue, in user space). The differences: its metrics listen on the machine's loopback only,
 * it reaches the API through the box, it runs at node-critical priority (it is part of the pod network), Go's soft memory limit keeps it small,
 * and the NRI socket is not mounted (the machines' containerd 1.7 has NRI switched off, so pod addresses come
 * from the API server).
 */
export function networkPolicyObjects(api: { host: string; port: number }, options: NetworkPolicyOptions): KubernetesObject[] {
  const account: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NETWORK_POLICY_CONTROLLER, namespace: NAMESPACE, labels } };
  const role: V1ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: NETWORK_POLICY_CONTROLLER, labels },
    rules: [
      // Nodes: an AdminNetworkPolicy's egress may name nodes as peers.
      { apiGroups: [''], resources: ['pods', 'namespaces', 'nodes'], verbs: ['list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list', 'watch'] },
      { apiGroups: ['policy.networking.k8s.io'], resources: ['adminnetworkpolicies', 'baselineadminnetworkpolicies'], verbs: ['list', 'watch'] },
    ],
  };
  const binding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: NETWORK_POLICY_CONTROLLER, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NETWORK_POLICY_CONTROLLER },
    subjects: [{ kind: 'ServiceAccount', name: NETWORK_POLICY_CONTROLLER, namespace: NAMESPACE }],
  };
  const daemonSet: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: NETWORK_POLICY_CONTROLLER, namespace: NAMESPACE, labels },
    spec: {
      selector: { matchLabels: { 'k8s-app': NETWORK_POLICY_CONTROLLER } },
      template: {
        metadata: { labels: { 'k8s-app': NETWORK_POLICY_CONTROLLER } },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          serviceAccountName: NETWORK_POLICY_CONTROLLER,
          // Every node, servers included, and before a node is Ready: policies hold wherever pods run.
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: NETWORK_POLICY_CONTROLLER,
              image: COMPONENTS[NETWORK_POLICY_CONTROLLER].image,
              imagePullPolicy: 'IfNotPresent',
              // Upstream's image names the binary as its CMD, kiab's build as its entrypoint: a command fits both.
              command: [COMPONENTS[NETWORK_POLICY_CONTROLLER].path],
              args: [
                '--hostname-override=$(NODE_NAME)',
                `--nfqueue-id=${NETWORK_POLICY_QUEUE}`,
                '--metrics-bind-address=127.0.0.1:9080',
                // A cluster administrator's policies, which hold where no NetworkPolicy speaks (Baseline) or
                // which no NetworkPolicy can override (Admin); their definitions are applied with the controller.
                '--baseline-admin-network-policy',
                ...(options.adminNetworkPolicy ? ['--admin-network-policy'] : []),
              ],
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                // The API through the box, not the kubernetes Service: the controller then needs no service proxy
                // (it starts before a node's kube-proxy has its rules, and runs where kube-proxy does not).
                { name: 'KUBERNETES_SERVICE_HOST', value: api.host },
                { name: 'KUBERNETES_SERVICE_PORT', value: String(api.port) },
                { name: 'GOMEMLIMIT', value: '24MiB' },
              ],
              resources: { requests: { cpu: '50m', memory: '32Mi' } },
              securityContext: { privileged: true },
            },
          ],
        },
      },
    },
  };
  return [account, role, binding, daemonSet];
}

export interface NetworkPolicyOptions {
  /**
   * Whether the controller serves AdminNetworkPolicy: its support for them starts a DNS agent (for domain-name
   * peers) that reads packets through nftables' queue statement. On a kernel without it the agent's socket is
   * closed under it and it spins on the error (kube-network-policies v0.8.0), two cores' worth here, so it is
   * left off there, its definition not installed, and an AdminNetworkPolicy is refused by the API rather than ignored.
   */
  adminNetworkPolicy: boolean;
}

/**
 * The objects as one stream of documents kubectl applies: the definitions of the administrator's policies it
 * serves (`definitions`, upstream's YAML as the addon set holds it), then the controller.
 */
export function networkPolicyManifest(api: { host: string; port: number }, definitions: readonly string[], options: NetworkPolicyOptions): string {
  return [...definitions, `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: networkPolicyObjects(api, options) }, null, 2)}\n`].join('---\n');
}
