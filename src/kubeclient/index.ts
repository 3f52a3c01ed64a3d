/**
 * client-node, loaded the first time something talks to Kubernetes or reads a manifest: it is most of the
 * CLI's code, and commands on bare machines (or that never reach the API) start faster without it.
 */
export const kubernetesClient = (): Promise<typeof import('./client-node.js')> => import('./client-node.js');
