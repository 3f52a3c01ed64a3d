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

/** distribution v2 config: no auth (Debian's default enables htpasswd), data on the box's volume. */
export function registryConfig(options: { proxyRemoteUrl?: string | undefined } = {}): string {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', fields: { service: 'registry' } },
    storage: { filesystem: { rootdirectory: '/var/lib/docker-registry' }, delete: { enabled: true } },
    http: { addr: `:${REGISTRY_PORT}`, headers: { 'X-Content-Type-Options': ['nosniff'] } },
  };
  if (options.proxyRemoteUrl) config.proxy = { remoteurl: options.proxyRemoteUrl };
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
export function containerdMirrorFiles(endpoints: RegistryEndpoints): MachineFile[] {
  const target = `http://${endpoints.fromClusterNetwork}`;
  const hostsToml = `# Written by kiab: ${endpoints.fromMachines} is the box registry.
server = "${target}"

[host."${target}"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
`;
  const names = [...new Set([endpoints.fromMachines, endpoints.fromClusterNetwork])];
  return names.map((name) => ({ path: `/etc/containerd/certs.d/${name}/hosts.toml`, content: hostsToml }));
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
