import type Docker from 'dockerode';
import type { BindMount, ContainerSpec } from '../types.js';

const PROPAGATION: Record<BindMount['propagation'], 'rprivate' | 'rslave' | 'rshared'> = {
  private: 'rprivate',
  'host-to-container': 'rslave',
  bidirectional: 'rshared',
};

/**
 * Engine settings for a machine: a systemd container that can run nested containers and a kubelet,
 * with its cgroups private to it. `--privileged` is avoided on purpose: it fails where the engine lacks
 * CAP_SYS_RESOURCE, and ALL-but-that is what the machine needs.
 */
type HostConfig = Docker.HostConfig & { CgroupnsMode?: 'private' | 'host' };

function machineHostConfig(): HostConfig {
  return {
    CapAdd: ['ALL'],
    CapDrop: ['SYS_RESOURCE'],
    SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'],
    // systempaths=unconfined: kubelet and kube-proxy write under /proc/sys.
    MaskedPaths: [],
    ReadonlyPaths: [],
    CgroupnsMode: 'private',
    Devices: [{ PathOnHost: '/dev/kmsg', PathInContainer: '/dev/kmsg', CgroupPermissions: 'rwm' }],
    // The device cgroup a privileged container gets (kind's nodes are privileged). With Docker's default
    // allow-list, runc inside the machine cannot grant a privileged pod `a *:* rwm` on a cgroup v1 host, since
    // a child device cgroup may only narrow its parent's, so such a pod never starts.
    DeviceCgroupRules: ['a *:* rwm'],
    Tmpfs: { '/run': 'rw,exec,mode=755', '/tmp': 'rw,exec,mode=1777' },
    Init: false,
  };
}

/**
 * A container with an IPv6 address: IPv6 on in its namespace (the engine turns it off where a network has none,
 * loopback's ::1 included), and forwarding, since a machine routes its pods' IPv6 traffic as it does their IPv4.
 */
const IPV6_SYSCTLS = {
  'net.ipv6.conf.all.disable_ipv6': '0',
  'net.ipv6.conf.default.disable_ipv6': '0',
  'net.ipv6.conf.all.forwarding': '1',
};

/** Settings for the box: an ordinary process that rewrites packets in its own network namespace. */
function routerHostConfig(): HostConfig {
  return {
    CapAdd: ['NET_ADMIN', 'NET_RAW'],
    Sysctls: { 'net.ipv4.ip_forward': '1' },
    Init: false,
  };
}

export function containerCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of spec.publish) {
    const key = `${port.containerPort}/${port.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.hostIp, HostPort: String(port.hostPort) });
  }
  const base = spec.kind === 'machine' ? machineHostConfig() : routerHostConfig();
  return {
    name: spec.name,
    Hostname: spec.hostname,
    Image: spec.image,
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Labels: spec.labels,
    // A TTY makes systemd print boot progress, which is how readiness is seen without exec'ing early.
    Tty: spec.kind === 'machine',
    Env: Object.entries({ ...(spec.kind === 'machine' ? { container: 'docker' } : {}), ...spec.env }).map(([key, value]) => `${key}=${value}`),
    ExposedPorts: exposed,
    HostConfig: {
      ...base,
      NetworkMode: spec.network?.name ?? 'none',
      PortBindings: bindings,
      // Back after an engine restart or host reboot, unless the user stopped it.
      RestartPolicy: { Name: 'unless-stopped' },
      ...(spec.cpuShares === undefined ? {} : { CpuShares: spec.cpuShares }),
      ...(spec.network?.ip6 ? { Sysctls: { ...base.Sysctls, ...IPV6_SYSCTLS } } : {}),
      Mounts: [
        ...spec.volumes.map((volume) => ({
          Type: 'volume' as const,
          Source: volume.name,
          Target: volume.path,
          VolumeOptions: { Labels: volume.labels },
        })),
        ...(spec.binds ?? []).map((bind) => ({
          Type: 'bind' as const,
          Source: bind.hostPath,
          Target: bind.path,
          ReadOnly: bind.readOnly,
          BindOptions: { Propagation: PROPAGATION[bind.propagation] },
        })),
      ] as Docker.MountSettings[],
    },
    NetworkingConfig: {
      EndpointsConfig: spec.network
        ? {
            [spec.network.name]: {
              IPAMConfig: { IPv4Address: spec.network.ip, ...(spec.network.ip6 ? { IPv6Address: spec.network.ip6 } : {}) },
              Aliases: spec.network.aliases ?? [],
            },
          }
        : {},
    },
  };
}
