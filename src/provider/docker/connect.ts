import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { UsageError } from '../../errors.js';

export interface EngineEndpoint {
  /** What a user would write in DOCKER_HOST, for messages. */
  description: string;
  /** The user its containers run as on this host: root for the system socket, this user for a rootless one. */
  localUid: number | undefined;
  options: Docker.DockerOptions;
}

/** A rootful engine's socket lives outside the user's runtime directory; a rootless one's inside it. */
function socketOwner(socketPath: string, env: NodeJS.ProcessEnv): number {
  return env.XDG_RUNTIME_DIR && socketPath.startsWith(env.XDG_RUNTIME_DIR) ? (process.getuid?.() ?? 0) : 0;
}

interface Tls {
  /** Where ca.pem, cert.pem and key.pem are. */
  dir: string;
}

function readTls(tls: Tls, what: string): Pick<Docker.DockerOptions, 'ca' | 'cert' | 'key'> {
  const read = (name: string): Buffer => {
    const path = join(tls.dir, name);
    try {
      return readFileSync(path);
    } catch {
      throw new UsageError(`${what}: TLS is on but ${path} cannot be read`, 'set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem');
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

/** An endpoint from a docker host URL: unix://, tcp:// (TLS when `tls` is given, as with DOCKER_TLS_VERIFY) or ssh://. */
export function endpointFromHost(host: string, tls: Tls | undefined, env: NodeJS.ProcessEnv, what = 'DOCKER_HOST'): EngineEndpoint {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    return { description: host, options: { socketPath }, localUid: socketOwner(socketPath, env) };
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new UsageError(`${what}: "${host}" is not a unix://, tcp:// or ssh:// address`);
  }
  if (url.protocol === 'ssh:') {
    // docker-modem runs the engine API over an SSH connection to `docker system dial-stdio`, as the docker CLI does.
    return {
      description: host,
      options: {
        protocol: 'ssh',
        host: url.hostname,
        port: Number(url.port || 22),
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(env.SSH_AUTH_SOCK ? { sshOptions: { agent: env.SSH_AUTH_SOCK } } : {}),
      },
      localUid: undefined,
    };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${what}: "${host}" is not a unix://, tcp:// or ssh:// address`);
  const secure = tls !== undefined || url.protocol === 'https:';
  return {
    description: host,
    options: {
      host: url.hostname,
      port: Number(url.port || (secure ? 2376 : 2375)),
      protocol: secure ? 'https' : 'http',
      ...(tls ? readTls(tls, what) : {}),
    },
    localUid: undefined,
  };
}

/** The docker CLI's current context: DOCKER_CONTEXT, else config.json's currentContext; "default" means none. */
function currentContext(env: NodeJS.ProcessEnv, configDir: string): string | undefined {
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT === 'default' ? undefined : env.DOCKER_CONTEXT;
  try {
    const config = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { currentContext?: string };
    return config.currentContext && config.currentContext !== 'default' ? config.currentContext : undefined;
  } catch {
    return undefined;
  }
}

/** The engine endpoint a docker context stores (contexts/meta/<sha256 of its name>/meta.json), with its TLS files. */
function contextEndpoint(name: string, env: NodeJS.ProcessEnv, configDir: string, why = 'is the current context'): EngineEndpoint {
  const id = createHash('sha256').update(name).digest('hex');
  let meta: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(join(configDir, 'contexts', 'meta', id, 'meta.json'), 'utf8')) as typeof meta;
  } catch {
    throw new UsageError(`docker context: "${name}" ${why}, but it is not in ${join(configDir, 'contexts')}`, 'see `docker context ls`');
  }
  const docker = meta.Endpoints?.docker;
  if (!docker?.Host) throw new UsageError(`docker context: "${name}" has no docker endpoint`);
  if (docker.SkipTLSVerify)
    throw new UsageError(
      `docker context: "${name}" skips TLS verification, which kiab refuses`,
      'give the context its CA (docker context update --docker ca=...)',
    );
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  return endpointFromHost(docker.Host, existsSync(join(tlsDir, 'ca.pem')) ? { dir: tlsDir } : undefined, env, `docker context ${name}`);
}

/**
 * Finds the engine the way the docker CLI and testcontainers do, first match wins: DOCKER_HOST (with
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for tcp://, or ssh://), then the current docker context, then the
 * rootful socket, then a rootless Docker or Podman socket of this user.
 */
export function resolveEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const configDir = env.DOCKER_CONFIG || join(homedir(), '.docker');
  const dockerHost = env.DOCKER_HOST?.trim();
  if (dockerHost) {
    const tls = env.DOCKER_TLS_VERIFY ? { dir: env.DOCKER_CERT_PATH || configDir } : undefined;
    return endpointFromHost(dockerHost, tls, env);
  }
  const context = currentContext(env, configDir);
  if (context) return contextEndpoint(context, env, configDir);
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const candidates = ['/var/run/docker.sock', ...(runtimeDir ? [`${runtimeDir}/docker.sock`, `${runtimeDir}/podman/podman.sock`] : [])];
  const socketPath = candidates.find((path) => existsSync(path)) ?? candidates[0]!;
  return { description: `unix://${socketPath}`, options: { socketPath }, localUid: socketOwner(socketPath, env) };
}

/** An engine kiab.yaml lists: a host as DOCKER_HOST is written (TLS from `tlsCertPath`), or a docker context's name. */
export function endpointOf(engine: { name: string; host: string; tlsCertPath?: string | undefined }, env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const what = `engine ${engine.name}`;
  if (engine.host.includes('://')) return endpointFromHost(engine.host, engine.tlsCertPath ? { dir: engine.tlsCertPath } : undefined, env, what);
  return contextEndpoint(engine.host, env, env.DOCKER_CONFIG || join(homedir(), '.docker'), `is engine ${engine.name}'s host`);
}
