import type {
  V1APIService,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Deployment,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { COMPONENTS } from './components.js';
import { addonLabels, ON_SERVERS, type AddonImages, type AddonManifest, type AddonSettings } from './types.js';

const NAMESPACE = 'kube-system';
const NAME = 'metrics-server';
const labels = { ...addonLabels('metrics', NAME), 'k8s-app': NAME };
export const METRICS_API_SERVICE = 'v1beta1.metrics.k8s.io';
/** The Secret holding metrics-server's serving certificate and the CA the API server checks it against. */
export const METRICS_TLS_SECRET = { namespace: NAMESPACE, name: 'metrics-server-tls' };
/** The name the API server reaches metrics-server by, which its certificate must carry. */
export const METRICS_SERVICE_DNS = [`${NAME}.${NAMESPACE}.svc`, `${NAME}.${NAMESPACE}.svc.cluster.local`];

const base64 = (text: string): string => Buffer.from(text).toString('base64');

export const METRICS_IMAGES: AddonImages = [{ component: 'metrics-server', on: 'servers' }];

/**
 * metrics-server as upstream deploys it (manifests/base), with two differences: the API server checks its
 * certificate against a CA kiab made for it (no insecureSkipTLSVerify), and metrics-server checks the
 * kubelets' serving certificates against the cluster CA (no --kubelet-insecure-tls): the kubelets request
 * those from the cluster CA and kiab approves exactly those requests.
 */
export function metricsAddon(settings: AddonSettings): AddonManifest {
  const { metricsTls } = settings;
  const account: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: NAMESPACE, labels } };
  const reader: V1ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: 'system:aggregated-metrics-reader',
      labels: {
        ...labels,
        'rbac.authorization.k8s.io/aggregate-to-view': 'true',
        'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
        'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      },
    },
    rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
  };
  const subjects = [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }];
  const authReader: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'metrics-server-auth-reader', namespace: NAMESPACE, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
    subjects,
  };
  const delegator: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'metrics-server:system:auth-delegator', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects,
  };
  const role: V1ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:metrics-server', labels },
    rules: [
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ],
  };
  const binding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'system:metrics-server', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
    subjects,
  };
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { ...METRICS_TLS_SECRET, labels },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': base64(metricsTls.certPem), 'tls.key': base64(metricsTls.keyPem), 'ca.crt': base64(metricsTls.caPem) },
  };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAME, namespace: NAMESPACE, labels },
    spec: { selector: { 'k8s-app': NAME }, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https', appProtocol: 'https' }] },
  };
  const probe = (path: string) => ({ httpGet: { path, port: 'https', scheme: 'HTTPS' }, periodSeconds: 5, failureThreshold: 3 });
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: NAMESPACE, labels },
    spec: {
      selector: { matchLabels: { 'k8s-app': NAME } },
      strategy: { rollingUpdate: { maxUnavailable: 0 } },
      template: {
        metadata: { labels: { 'k8s-app': NAME } },
        spec: {
          serviceAccountName: NAME,
          priorityClassName: 'system-cluster-critical',
          ...ON_SERVERS,
          containers: [
            {
              name: NAME,
              image: COMPONENTS['metrics-server'].image,
              imagePullPolicy: 'IfNotPresent',
              args: [
                '--cert-dir=/tmp',
                '--secure-port=10250',
                '--tls-cert-file=/etc/metrics-server/tls.crt',
                '--tls-private-key-file=/etc/metrics-server/tls.key',
                '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
                '--kubelet-use-node-status-port',
                // Ready only once a second scrape is stored: the smallest resolution it takes (10 s; upstream's
                // manifest has 15 s) makes `up` and `reset` with addons 5 s shorter. A kubelet on the same host
                // answers in milliseconds; the request timeout must stay under 90 % of the resolution.
                '--metric-resolution=10s',
                '--kubelet-request-timeout=5s',
              ],
              resources: { requests: { cpu: '100m', memory: '200Mi' } },
              ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
              // Looked at every second: ready once the first scrape is stored, which `up` waits for.
              readinessProbe: { ...probe('/readyz'), periodSeconds: 1 },
              livenessProbe: probe('/livez'),
              securityContext: {
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: 1000,
                allowPrivilegeEscalation: false,
                seccompProfile: { type: 'RuntimeDefault' },
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'tmp-dir', mountPath: '/tmp' },
                { name: 'tls', mountPath: '/etc/metrics-server', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'tmp-dir', emptyDir: {} },
            { name: 'tls', secret: { secretName: METRICS_TLS_SECRET.name } },
          ],
        },
      },
    },
  };
  const apiService: V1APIService = {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: METRICS_API_SERVICE, labels },
    spec: {
      service: { name: NAME, namespace: NAMESPACE },
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      caBundle: base64(metricsTls.caPem),
      groupPriorityMinimum: 100,
      versionPriority: 100,
    },
  };
  return {
    name: 'metrics',
    definitions: [],
    objects: [account, reader, authReader, delegator, role, binding, secret, service, deployment],
    registrations: [apiService],
    probe: {
      component: `metrics-server ${COMPONENTS['metrics-server'].image.split(':').pop()}`,
      deployments: [{ namespace: NAMESPACE, name: NAME }],
      daemonSets: [],
      apiServices: [METRICS_API_SERVICE],
      present: [],
    },
  };
}
