import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { ClusterNames } from '../../names.js';
import type { ContainerFile, Provider } from '../../provider/types.js';
import { REGISTRY_HTPASSWD_PATH, REGISTRY_PASSWORD_PATH, REGISTRY_USER, type RegistryCredentials } from '../../registry/index.js';
import type { ClusterSpec } from '../../spec/schema.js';
import type { ObservedCluster } from './observe.js';
import type { HostPorts } from '../../net/ports.js';
import type { Reporter } from '../../reporter.js';
import { REGISTRY_PORT, registryEndpoints } from '../../registry/index.js';
import { saveDockerLogin } from '../../registry/docker-login.js';
import { lanOf } from './lan.js';

/*
 * registry.auth: the box's registry asks for a login. The password is made once, with the box, and kept on the
 * registry's volume beside an htpasswd (bcrypt) of it; machines send it from their containerd files (0600).
 * It never goes into labels, environment or arguments.
 */

/** The cluster's registry login: the one the box keeps, or a new one (`made`) for a box that has none yet. */
export async function registryCredentialsOf(
  provider: Provider,
  spec: ClusterSpec,
  names: ClusterNames,
  observed: ObservedCluster,
): Promise<{ credentials: RegistryCredentials; made: boolean } | undefined> {
  if (!spec.registry.enabled || !spec.registry.auth) return undefined;
  const kept = observed.box ? (await provider.readFile(names.box, REGISTRY_PASSWORD_PATH))?.trim() : undefined;
  if (kept) return { credentials: { username: REGISTRY_USER, password: kept }, made: false };
  return { credentials: { username: REGISTRY_USER, password: randomBytes(18).toString('base64url') }, made: true };
}

/** The box's files of a login: the htpasswd the registry checks, and the password for machines made later. */
export function registryAuthFiles(credentials: RegistryCredentials): ContainerFile[] {
  return [
    { path: REGISTRY_HTPASSWD_PATH, content: `${credentials.username}:${bcrypt.hashSync(credentials.password, 10)}\n`, mode: 0o600 },
    { path: REGISTRY_PASSWORD_PATH, content: `${credentials.password}\n`, mode: 0o600 },
  ];
}

/**
 * The login a command that makes the box (up, a restore) works with: docker's own file gets it every time (a
 * command cut short still leaves it there), and a new password is shown once, when made.
 */
export async function registryLogin(
  provider: Provider,
  spec: ClusterSpec,
  names: ClusterNames,
  observed: ObservedCluster,
  ports: HostPorts,
  reporter: Reporter,
): Promise<{ credentials: RegistryCredentials; made: boolean } | undefined> {
  const login = await registryCredentialsOf(provider, spec, names, observed);
  if (!login) return undefined;
  const lan = lanOf(spec);
  const registries = [registryEndpoints(names.box, ports.registry).host, ...(lan ? [`${lan.address}:${REGISTRY_PORT}`] : [])];
  const saved = await saveDockerLogin(registries, login.credentials);
  if (login.made)
    reporter.info(`registry login: user ${login.credentials.username}, password ${login.credentials.password} (shown once; saved for docker in ${saved})`);
  return login;
}
