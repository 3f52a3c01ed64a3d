import { existsSync } from 'node:fs';
import Docker from 'dockerode';

export interface EngineEndpoint {
  /** What a user would write in DOCKER_HOST, for messages. */
  description: string;
  /** The user its containers run as on this host: root for the system socket, this user for a rootless one. */
  localUid: number | undefined;
  options: Docker.DockerOptions;
}

/** A rootful engine's socket lives outside the user's runtime directory; a rootless one's inside it. */
function socketOwner(socketPath: string, env: NodeJS.ProcessEnv = process.env): number {
  return env.XDG_RUNTIME_DIR && socketPath.startsWith(env.XDG_RUNTIME_DIR) ? (process.getuid?.() ?? 0) : 0;
}

/**
 * Finds the engine the way the docker CLI and testcontainers do, first match wins:
 * DOCKER_HOST, then the rootful socket, then a rootless Docker or Podman socket of this user.
 */
export function resolveEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const dockerHost = env.DOCKER_HOST?.trim();
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) {
      const socketPath = dockerHost.slice('unix://'.length);
      return { description: dockerHost, options: { socketPath }, localUid: socketOwner(socketPath) };
    }
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    return { description: dockerHost, options: { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' }, localUid: undefined };
  }
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const candidates = ['/var/run/docker.sock', ...(runtimeDir ? [`${runtimeDir}/docker.sock`, `${runtimeDir}/podman/podman.sock`] : [])];
  const socketPath = candidates.find((path) => existsSync(path)) ?? candidates[0]!;
  return { description: `unix://${socketPath}`, options: { socketPath }, localUid: socketOwner(socketPath) };
}
