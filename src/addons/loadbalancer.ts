import type {
  KubernetesObject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1Namespace,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { RESERVED_HOSTS } from '../net/addresses.js';
import { ipv6Of } from '../net/ipv6.js';
import { COMPONENTS } from './components.js';
import { addonLabels, ON_SERVERS, type AddonImages, type AddonManifest, type AddonSettings } from './types.js';

/** The pool's ranges: .200-.250 of the cluster /24 and, for Services with IPv6, their IPv6 twins (net/ipv6.ts). */
function poolRanges(prefix: string, families: { ipv4: boolean; ipv6: boolean }): string[] {
  const [first, last] = [`${prefix}.${RESERVED_HOSTS.first}`, `${prefix}.${RESERVED_HOSTS.last}`];
  return [...(families.ipv4 ? [`${first}-${last}`] : []), ...(families.ipv6 ? [`${ipv6Of(first)}-${ipv6Of(last)}`] : [])];
}

const NAMESPACE = 'metallb-system';
const labels = addonLabels('loadbalancer', 'metallb');

const read = (resources: string[]): V1PolicyRule => ({ apiGroups: ['metallb.io'], resources, verbs: ['get', 'list', 'watch'] });
const rbacGroup = 'rbac.authorization.k8s.io';

export const LOADBALANCER_IMAGES: AddonImages = [
  { component: 'metallb-controller', on: 'servers' },
  { component: 'metallb-speaker', on: 'all' },
];

/**
 * MetalLB in layer-2 mode as its native manifest (config/manifests/metallb-native.yaml) deploys it, without
 * the validating webhooks (kiab writes the only configuration, an address pool it knows to be valid), and with
 * one pool: the addresses of the cluster network kiab never gives a machine (.200-.250), announced by ARP from whichever machine MetalLB picks.
 */
export function loadBalancerAddon(settings: AddonSettings): AddonManifest {
  const namespace: V1Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: NAMESPACE,
      labels: {
        ...labels,
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/audit': 'privileged',
        'pod-security.kubernetes.io/warn': 'privileged',
      },
    },
  };
  const controllerAccount: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'controller', namespace: NAMESPACE, labels } };
  const speakerAccount: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'speaker', namespace: NAMESPACE, labels } };
  const controllerRole: V1Role = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'Role',
    metadata: { name: 'controller', namespace: NAMESPACE, labels },
    rules: [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['memberlist'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['controller'], verbs: ['get'] },
      { apiGroups: ['metallb.io'], resources: ['bgppeers'], verbs: ['get', 'list'] },
      read(['bfdprofiles', 'ipaddresspools', 'bgpadvertisements', 'l2advertisements', 'communities']),
      { apiGroups: ['metallb.io'], resources: ['ipaddresspools/status'], verbs: ['update'] },
    ],
  };
  const speakerRole: V1Role = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'Role',
    metadata: { name: 'pod-lister', namespace: NAMESPACE, labels },
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] },
      { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'watch'] },
      read(['bfdprofiles', 'bgppeers', 'l2advertisements', 'bgpadvertisements', 'ipaddresspools', 'communities']),
      { apiGroups: ['metallb.io'], resources: ['servicebgpstatuses', 'servicebgpstatuses/status'], verbs: ['*'] },
    ],
  };
  const controllerClusterRole: V1ClusterRole = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRole',
    metadata: { name: 'metallb-system:controller', labels },
    rules: [
      { apiGroups: [''], resources: ['services', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['list'] },
      { apiGroups: [''], resources: ['services/status'], verbs: ['update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ],
  };
  const speakerClusterRole: V1ClusterRole = {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRole',
    metadata: { name: 'metallb-system:speaker', labels },
    rules: [
      { apiGroups: ['metallb.io'], resources: ['servicel2statuses', 'servicel2statuses/status'], verbs: ['*'] },
      { apiGroups: [''], resources: ['services', 'endpoints', 'nodes', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ],
  };
  const bind = (kind: 'Role' | 'ClusterRole', name: string, account: string): V1RoleBinding | V1ClusterRoleBinding => ({
    apiVersion: `${rbacGroup}/v1`,
    kind: kind === 'Role' ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: { name, ...(kind === 'Role' ? { namespace: NAMESPACE } : {}), labels },
    roleRef: { apiGroup: rbacGroup, kind, name },
    subjects: [{ kind: 'ServiceAccount', name: account, namespace: NAMESPACE }],
  });
  const excludeL2: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'metallb-excludel2', namespace: NAMESPACE, labels },
    data: {
      'excludel2.yaml': `announcedInterfacesToExclude: ${JSON.stringify([
        '^docker.*',
        '^cbr.*',
        '^dummy.*',
        '^virbr.*',
        '^lxcbr.*',
        '^veth.*',
        '^lo$',
        '^cali.*',
        '^tunl.*',
        '^flannel.*',
        '^kube-ipvs.*',
        '^cni.*',
        '^nodelocaldns.*',
      ])}\n`,
    },
  };
  const metrics = { name: 'monitoring', containerPort: 7472 };
  const health = { httpGet: { path: '/metrics', port: 'monitoring' }, initialDelaySeconds: 2, periodSeconds: 5, failureThreshold: 3 };
  // Readiness is looked at every second, so `up` sees it as soon as it is true; liveness keeps its patience.
  const ready = { ...health, initialDelaySeconds: 0, periodSeconds: 1 };
  const controller: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'controller', namespace: NAMESPACE, labels: { ...labels, app: 'metallb', component: 'controller' } },
    spec: {
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: 'metallb', component: 'controller' } },
      template: {
        metadata: { labels: { app: 'metallb', component: 'controller' } },
        spec: {
          serviceAccountName: 'controller',
          terminationGracePeriodSeconds: 0,
          securityContext: { fsGroup: 65534, runAsNonRoot: true, runAsUser: 65534 },
          ...ON_SERVERS,
          containers: [
            {
              name: 'controller',
              image: COMPONENTS['metallb-controller'].image,
              imagePullPolicy: 'IfNotPresent',
              args: ['--port=7472', '--log-level=info', '--webhook-mode=disabled'],
              env: [
                { name: 'METALLB_ML_SECRET_NAME', value: 'memberlist' },
                { name: 'METALLB_DEPLOYMENT', value: 'controller' },
              ],
              ports: [metrics],
              livenessProbe: health,
              readinessProbe: ready,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['all'] }, readOnlyRootFilesystem: true },
            },
          ],
        },
      },
    },
  };
  const field = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
  const speaker: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'speaker', namespace: NAMESPACE, labels: { ...labels, app: 'metallb', component: 'speaker' } },
    spec: {
      selector: { matchLabels: { app: 'metallb', component: 'speaker' } },
      template: {
        metadata: { labels: { app: 'metallb', component: 'speaker' } },
        spec: {
          serviceAccountName: 'speaker',
          terminationGracePeriodSeconds: 2,
          hostNetwork: true,
          tolerations: ON_SERVERS.tolerations,
          containers: [
            {
              name: 'speaker',
              image: COMPONENTS['metallb-speaker'].image,
              imagePullPolicy: 'IfNotPresent',
              // kubeadm marks servers as excluded from external load balancers; here any machine may answer for an
              // address, which matters when there are no workers.
              args: ['--port=7472', '--log-level=info', '--ignore-exclude-lb'],
              env: [
                { name: 'METALLB_NODE_NAME', ...field('spec.nodeName') },
                { name: 'METALLB_POD_NAME', ...field('metadata.name') },
                { name: 'METALLB_HOST', ...field('status.hostIP') },
                { name: 'METALLB_ML_BIND_ADDR', ...field('status.podIP') },
                { name: 'METALLB_ML_LABELS', value: 'app=metallb,component=speaker' },
                { name: 'METALLB_ML_SECRET_KEY_PATH', value: '/etc/ml_secret_key' },
              ],
              ports: [metrics, { name: 'memberlist-tcp', containerPort: 7946 }, { name: 'memberlist-udp', containerPort: 7946, protocol: 'UDP' }],
              livenessProbe: health,
              readinessProbe: ready,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_RAW'], drop: ['ALL'] }, readOnlyRootFilesystem: true },
              volumeMounts: [
                { name: 'memberlist', mountPath: '/etc/ml_secret_key', readOnly: true },
                { name: 'metallb-excludel2', mountPath: '/etc/metallb', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'memberlist', secret: { secretName: 'memberlist', defaultMode: 0o644 } },
            { name: 'metallb-excludel2', configMap: { name: 'metallb-excludel2', defaultMode: 0o400 } },
          ],
        },
      },
    },
  };
  const prefix = settings.subnetPrefix;
  const pool: KubernetesObject & { spec: unknown } = {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'kiab', namespace: NAMESPACE, labels },
    spec: { addresses: poolRanges(prefix, settings.families ?? { ipv4: true, ipv6: false }) },
  };
  const advertisement: KubernetesObject & { spec: unknown } = {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'kiab', namespace: NAMESPACE, labels },
    spec: { ipAddressPools: ['kiab'] },
  };
  return {
    name: 'loadbalancer',
    definitions: settings.metallbDefinitions,
    objects: [
      namespace,
      controllerAccount,
      speakerAccount,
      controllerRole,
      speakerRole,
      controllerClusterRole,
      speakerClusterRole,
      bind('Role', 'controller', 'controller'),
      bind('Role', 'pod-lister', 'speaker'),
      bind('ClusterRole', 'metallb-system:controller', 'controller'),
      bind('ClusterRole', 'metallb-system:speaker', 'speaker'),
      excludeL2,
      controller,
      speaker,
      pool,
      advertisement,
    ],
    registrations: [],
    probe: {
      component: `MetalLB ${COMPONENTS['metallb-controller'].image.split(':').pop()}`,
      deployments: [{ namespace: NAMESPACE, name: 'controller' }],
      daemonSets: [{ namespace: NAMESPACE, name: 'speaker' }],
      apiServices: [],
      present: [],
    },
  };
}
