import type {
  KubernetesObject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1DaemonSet,
  V1IngressClass,
  V1Namespace,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { COMPONENTS } from './components.js';
import { addonLabels, ON_SERVERS, type AddonImages, type AddonManifest, type AddonSettings } from './types.js';

const NAMESPACE = 'traefik';
const NAME = 'traefik';
export const INGRESS_CLASS = 'traefik';
/** The Gateway every namespace's routes can attach to (parentRefs: name traefik, namespace traefik), and its class. */
export const GATEWAY = { name: 'traefik', namespace: NAMESPACE, className: 'traefik' } as const;
/** Traefik's web entry point: a Gateway listener is bound to the entry point with its port. */
const WEB_PORT = 8000;

/** The fields of Gateway API's objects kiab sets (client-node has no types for them). */
interface GatewayClass extends KubernetesObject {
  spec: { controllerName: string; description?: string };
}
interface Gateway extends KubernetesObject {
  spec: {
    gatewayClassName: string;
    listeners: Array<{ name: string; port: number; protocol: 'HTTP'; allowedRoutes: { namespaces: { from: 'All' | 'Same' } } }>;
  };
}
const labels = addonLabels('ingress', NAME);
const selector = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/instance': 'kiab' };

export const INGRESS_IMAGES: AddonImages = [{ component: 'traefik', on: 'ingress' }];

/**
 * Traefik as the cluster's ingress controller (the one k3s ships), with the RBAC of its Kubernetes Ingress
 * provider documentation plus nodes. It runs on every machine the box forwards web traffic to (the workers, or the
 * servers when there are none) and takes ports 80 and 443 of each as hostPorts, so the box's forwarding,
 * whichever machine it picks, lands on it. Port 443 terminates TLS with Traefik's default certificate for
 * every route, so an ordinary Ingress answers on https too. Its Gateway API provider serves the routes
 * (HTTPRoute, GRPCRoute) attached to the one Gateway kiab makes, on the same port 80.
 */
export function ingressAddon(settings: AddonSettings): AddonManifest {
  const namespace: V1Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels } };
  const account: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: NAMESPACE, labels } };
  const role: V1ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kiab:traefik', labels },
    rules: [
      { apiGroups: [''], resources: ['services', 'secrets'], verbs: ['get', 'list', 'watch'] },
      // Its Ingress provider waits for a node informer too (the RBAC of Traefik's CRD provider docs has it).
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['extensions', 'networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['extensions', 'networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
      // Its Gateway provider (the RBAC of Traefik's Gateway documentation, standard channel).
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['gateway.networking.k8s.io'],
        resources: ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants', 'backendtlspolicies'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['gateway.networking.k8s.io'],
        resources: ['gatewayclasses/status', 'gateways/status', 'httproutes/status', 'grpcroutes/status', 'backendtlspolicies/status'],
        verbs: ['update'],
      },
    ],
  };
  const binding: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kiab:traefik', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kiab:traefik' },
    subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
  };
  const ingressClass: V1IngressClass = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: INGRESS_CLASS, labels, annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
    spec: { controller: 'traefik.io/ingress-controller' },
  };
  const gatewayClass: GatewayClass = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: GATEWAY.className, labels },
    spec: { controllerName: 'traefik.io/gateway-controller', description: 'Traefik on the machines the box forwards ports 80 and 443 to' },
  };
  const gateway: Gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: GATEWAY.name, namespace: GATEWAY.namespace, labels },
    spec: {
      gatewayClassName: GATEWAY.className,
      // Routes of any namespace attach, as an Ingress of any namespace is served.
      listeners: [{ name: 'web', port: WEB_PORT, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }],
    },
  };
  const ping = { httpGet: { path: '/ping', port: 'traefik' }, periodSeconds: 5, failureThreshold: 3 };
  // Readiness is looked at every second, so `up` sees it as soon as it is true; liveness keeps its patience.
  const ready = { ...ping, periodSeconds: 1 };
  const daemonSet: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: NAME, namespace: NAMESPACE, labels },
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          serviceAccountName: NAME,
          terminationGracePeriodSeconds: 10,
          // With workers, the servers keep out of web traffic; without, the servers are where the box forwards it.
          ...(settings.hasWorkers
            ? {
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: [{ matchExpressions: [{ key: ON_SERVERS.tolerations[0]!.key!, operator: 'DoesNotExist' }] }],
                    },
                  },
                },
              }
            : { tolerations: ON_SERVERS.tolerations }),
          securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true },
          containers: [
            {
              name: NAME,
              image: COMPONENTS.traefik.image,
              imagePullPolicy: 'IfNotPresent',
              args: [
                `--entryPoints.web.address=:${WEB_PORT}/tcp`,
                '--entryPoints.websecure.address=:8443/tcp',
                '--entryPoints.websecure.http.tls=true',
                '--entryPoints.traefik.address=:9000/tcp',
                '--ping=true',
                '--providers.kubernetesingress=true',
                // Ingresses show the box's address, where their traffic comes in.
                `--providers.kubernetesingress.ingressendpoint.ip=${settings.boxIp}`,
                '--providers.kubernetesgateway=true',
                `--providers.kubernetesgateway.statusaddress.ip=${settings.boxIp}`,
                // Offline clusters: no update check, no usage report.
                '--global.checknewversion=false',
                '--global.sendanonymoususage=false',
              ],
              ports: [
                { name: 'web', containerPort: WEB_PORT, hostPort: 80, protocol: 'TCP' },
                { name: 'websecure', containerPort: 8443, hostPort: 443, protocol: 'TCP' },
                { name: 'traefik', containerPort: 9000, protocol: 'TCP' },
              ],
              readinessProbe: ready,
              livenessProbe: ping,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
  return {
    name: 'ingress',
    definitions: settings.gatewayDefinitions,
    objects: [namespace, account, role, binding, ingressClass, gatewayClass, gateway, daemonSet],
    registrations: [],
    probe: {
      component: `Traefik ${COMPONENTS.traefik.image.split(':').pop()}`,
      deployments: [],
      daemonSets: [{ namespace: NAMESPACE, name: NAME }],
      apiServices: [],
      present: [
        { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', name: INGRESS_CLASS },
        { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', name: GATEWAY.className },
      ],
    },
  };
}
