import { stringify as tomlStringify } from 'smol-toml';
import { stringify } from 'yaml';

/** The port the registry listens on inside the box. */
export const REGISTRY_PORT = 5000;

export interface RegistryEndpoints {
  /** Where to push from the host: `docker push localhost:PORT/app:tag` needs no insecure-registry setting. */
  host: string;
  /** The same name works inside machines: containerd maps it to the box. */
  fromMachines: string;
  /** The box registry's own address on the cluster network. */
  fromClusterNetwork: string;
}

export function registryEndpoints(boxHostname: string, hostPort: number): RegistryEndpoints {
  return { host: `localhost:${hostPort}`, fromMachines: `localhost:${hostPort}`, fromClusterNetwork: `${boxHostname}:${REGISTRY_PORT}` };
}

/** Who may push and pull when the registry asks for a login (registry.auth): one user, a generated password. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** The user kiab makes for a registry with a login. */
export const REGISTRY_USER = 'kiab';

/** Where the box keeps the login, on the registry's volume: a box made again keeps it with the images. */
export const REGISTRY_AUTH_DIR = '/var/lib/docker-registry/kiab-auth';
export const REGISTRY_HTPASSWD_PATH = `${REGISTRY_AUTH_DIR}/htpasswd`;
/** The password itself, for machines added later (their containerd sends it); mode 0600 in the box. */
export const REGISTRY_PASSWORD_PATH = `${REGISTRY_AUTH_DIR}/password`;

/** The value of an HTTP Basic Authorization header for these credentials. */
export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/**
 * distribution v2 config: no auth unless asked (Debian's default enables htpasswd), data on the box's volume.
 * With `htpasswd`, every request needs the login in that file (bcrypt).
 */
export function registryConfig(options: { proxyRemoteUrl?: string | undefined; htpasswd?: string | undefined } = {}): string {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', fields: { service: 'registry' } },
    storage: { filesystem: { rootdirectory: '/var/lib/docker-registry' }, delete: { enabled: true } },
    http: { addr: `:${REGISTRY_PORT}`, headers: { 'X-Content-Type-Options': ['nosniff'] } },
  };
  if (options.proxyRemoteUrl) config.proxy = { remoteurl: options.proxyRemoteUrl };
  if (options.htpasswd) config.auth = { htpasswd: { realm: 'kiab registry', path: options.htpasswd } };
  return stringify(config);
}

export interface MachineFile {
  path: string;
  content: string;
  mode?: number;
}

/**
 * containerd hosts.toml files so that the host-side name (localhost:PORT) and the box's own name both
 * resolve to the box registry over plain HTTP, for CRI pulls and for `ctr --hosts-dir`.
 */
export function containerdMirrorFiles(endpoints: RegistryEndpoints, credentials?: RegistryCredentials): MachineFile[] {
  const target = `http://${endpoints.fromClusterNetwork}`;
  // The login goes with every request to the box (the registry checks it per request); the file is then 0600.
  const login = credentials ? `\n[host."${target}".header]\n  Authorization = "${basicAuthorization(credentials)}"\n` : '';
  const hostsToml = `# Written by kiab: ${endpoints.fromMachines} is the box registry.
server = "${target}"

[host."${target}"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
${login}`;
  const names = [...new Set([endpoints.fromMachines, endpoints.fromClusterNetwork])];
  return names.map((name) => ({ path: `/etc/containerd/certs.d/${name}/hosts.toml`, content: hostsToml, ...(credentials ? { mode: 0o600 } : {}) }));
}

/** Where a registry name's own server is, when containerd finds no mirror that has an image. */
function upstreamOf(registry: string): string {
  return registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
}

/**
 * containerd hosts.toml files for the spec's mirrors: each registry name is tried at its endpoints, in order,
 * before its own server. An http:// endpoint is reached without TLS.
 */
export function containerdMirrorHostsFiles(mirrors: Record<string, string[]>): MachineFile[] {
  return Object.entries(mirrors).map(([registry, endpoints]) => ({
    path: `/etc/containerd/certs.d/${registry}/hosts.toml`,
    content: `# Written by kiab from registries.mirrors.\n${tomlStringify({
      server: upstreamOf(registry),
      host: Object.fromEntries(endpoints.map((endpoint) => [endpoint, { capabilities: ['pull', 'resolve'] }])),
    })}\n`,
  }));
}

/** KEP-1755: how tools such as Tilt and Skaffold discover a cluster's local registry. */
export function localRegistryHostingConfigMap(endpoints: RegistryEndpoints): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'local-registry-hosting', namespace: 'kube-public' },
    data: {
      'localRegistryHosting.v1': stringify({
        host: endpoints.host,
        hostFromContainerRuntime: endpoints.fromMachines,
        hostFromClusterNetwork: endpoints.fromClusterNetwork,
        help: 'https://github.com/kubernetes/enhancements/tree/master/keps/sig-cluster-lifecycle/generic/1755-communicating-a-local-registry',
      }),
    },
  };
}
