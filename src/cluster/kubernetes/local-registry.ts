import { localRegistryHostingConfigMap, type RegistryEndpoints } from '../../registry/index.js';
import { kubeClients } from './kube-objects.js';

/** KEP-1755: publishes where the registry is, so Tilt, Skaffold and friends find it themselves. */
export async function publishLocalRegistry(kubeconfig: string, endpoints: RegistryEndpoints): Promise<void> {
  const api = (await kubeClients(kubeconfig)).core;
  const body = localRegistryHostingConfigMap(endpoints) as { metadata: { name: string; namespace: string }; data: Record<string, string> };
  try {
    await api.replaceNamespacedConfigMap({ name: body.metadata.name, namespace: body.metadata.namespace, body });
  } catch {
    await api.createNamespacedConfigMap({ namespace: body.metadata.namespace, body });
  }
}
