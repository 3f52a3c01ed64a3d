// The parts of client-node kiab uses, named so that the bundle leaves out the rest (the whole package is
// 14 MB of bundle, these parts 6 MB); loaded on demand through index.ts.
export {
  ApiextensionsV1Api,
  ApiregistrationV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
} from '@kubernetes/client-node';
