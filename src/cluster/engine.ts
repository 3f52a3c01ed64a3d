import { DockerProvider } from '../provider/docker/provider.js';
import type { Provider } from '../provider/types.js';

export type { Provider as Engine } from '../provider/types.js';

/** The engine kiab works on, found the way the docker CLI finds it (DOCKER_HOST, the socket). */
export function connectEngine(): Provider {
  return new DockerProvider();
}
