import type {
  ApiextensionsV1Api,
  ApiregistrationV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubernetesObject,
  KubernetesObjectApi,
  V1Condition,
} from '@kubernetes/client-node';
import type { AddonProbe } from '../../addons/index.js';
import { kubernetesClient } from '../../kubeclient/index.js';

/** The API clients kiab's steps use, made once from a kubeconfig. */
export interface KubeClients {
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  apps: AppsV1Api;
  extensions: ApiextensionsV1Api;
  registration: ApiregistrationV1Api;
  discovery: DiscoveryV1Api;
  coordination: CoordinationV1Api;
}

export async function kubeClients(kubeconfig: string): Promise<KubeClients> {
  const { ApiextensionsV1Api, ApiregistrationV1Api, AppsV1Api, CoordinationV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, KubernetesObjectApi } =
    await kubernetesClient();
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  return {
    objects: KubernetesObjectApi.makeApiClient(config),
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    extensions: config.makeApiClient(ApiextensionsV1Api),
    registration: config.makeApiClient(ApiregistrationV1Api),
    discovery: config.makeApiClient(DiscoveryV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
  };
}

/** The HTTP status of a client-node API error, if it is one. */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Server-side apply as kiab's field manager: creates or updates each object to exactly what kiab says. */
export async function applyObjects(clients: KubeClients, objects: readonly KubernetesObject[]): Promise<void> {
  const { PatchStrategy } = await kubernetesClient();
  for (const object of objects) await clients.objects.patch(object, undefined, undefined, 'kiab', true, PatchStrategy.ServerSideApply);
}

const isTrue = (conditions: Array<Pick<V1Condition, 'type' | 'status'>> | undefined, type: string): boolean =>
  conditions?.some((condition) => condition.type === type && condition.status === 'True') ?? false;

/** Names of the definitions the API server does not serve yet. */
export async function unestablished(clients: KubeClients, names: readonly string[]): Promise<string[]> {
  const pending: string[] = [];
  for (const name of names) {
    const definition = await clients.extensions.readCustomResourceDefinition({ name }).catch(() => undefined);
    if (!isTrue(definition?.status?.conditions, 'Established')) pending.push(name);
  }
  return pending;
}

/** What keeps a probe from passing, or undefined when the addon works. */
export async function probeProblem(clients: KubeClients, probe: AddonProbe): Promise<string | undefined> {
  for (const { namespace, name } of probe.deployments) {
    const deployment = await clients.apps.readNamespacedDeployment({ namespace, name }).catch(() => undefined);
    if (!deployment) return `deployment ${namespace}/${name} does not exist`;
    const wanted = deployment.spec?.replicas ?? 1;
    const status = deployment.status;
    if ((status?.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0) || (status?.updatedReplicas ?? 0) < wanted)
      return `deployment ${namespace}/${name} is rolling out`;
    if ((status?.availableReplicas ?? 0) < wanted) return `deployment ${namespace}/${name} has ${status?.availableReplicas ?? 0}/${wanted} available`;
  }
  for (const { namespace, name } of probe.daemonSets) {
    const daemonSet = await clients.apps.readNamespacedDaemonSet({ namespace, name }).catch(() => undefined);
    if (!daemonSet) return `daemonset ${namespace}/${name} does not exist`;
    const status = daemonSet.status;
    const desired = status?.desiredNumberScheduled ?? 0;
    if ((status?.observedGeneration ?? 0) < (daemonSet.metadata?.generation ?? 0) || desired === 0 || (status?.updatedNumberScheduled ?? 0) < desired)
      return `daemonset ${namespace}/${name} is rolling out`;
    if ((status?.numberReady ?? 0) < desired) return `daemonset ${namespace}/${name} has ${status?.numberReady ?? 0}/${desired} ready`;
  }
  for (const name of probe.apiServices) {
    const service = await clients.registration.readAPIService({ name }).catch(() => undefined);
    if (!isTrue(service?.status?.conditions, 'Available')) return `API service ${name} is not available`;
  }
  for (const { apiVersion, kind, name } of probe.present) {
    const found = await clients.objects.read({ apiVersion, kind, metadata: { name } }).catch(() => undefined);
    if (!found) return `${kind} ${name} does not exist`;
  }
  return undefined;
}
