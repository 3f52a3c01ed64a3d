import type { MachineFile, RegistryEndpoints } from './index.js';

/**
 * A containerd hosts.toml that asks the box registry first for every image of `upstream` (registry.k8s.io),
 * under `prefix` (its repositories there are PREFIX/REPO), and the upstream itself after it. containerd reads
 * hosts.toml on each pull, so it takes effect without a restart, and goes when the file does.
 */
export function upstreamMirrorFile(upstream: string, endpoints: RegistryEndpoints, prefix: string): MachineFile {
  const mirror = `http://${endpoints.fromClusterNetwork}/v2/${prefix}`;
  return {
    path: upstreamMirrorPath(upstream),
    content: `# Written by kiab: the box registry answers for ${upstream} first, under ${prefix}/.
server = "https://${upstream}"

[host."${mirror}"]
  capabilities = ["pull", "resolve"]
  override_path = true
`,
  };
}

export function upstreamMirrorPath(upstream: string): string {
  return `/etc/containerd/certs.d/${upstream}/hosts.toml`;
}
