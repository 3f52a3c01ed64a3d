import { DockerProvider } from '../provider/docker/provider.js';
import { endpointOf } from '../provider/docker/connect.js';
import { DockerSwarm } from '../provider/docker/swarm.js';
import type { Provider, SwarmControl } from '../provider/types.js';
import type { EngineSpec } from '../spec/schema.js';

export type { Provider as Engine } from '../provider/types.js';

/** The engine kiab works on, found the way the docker CLI finds it (DOCKER_HOST, the socket). */
export function connectEngine(): Provider {
  return new DockerProvider();
}

/** The swarm side of an engine kiab.yaml lists (see cluster/engines/). */
export function swarmOf(engine: EngineSpec): SwarmControl {
  return new DockerSwarm(endpointOf(engine));
}
