import type { ImageRecipe } from './recipe.js';

/**
 * Runs before systemd: makes the container behave like a machine, then execs /sbin/init.
 * Everything here is re-done at every start, because /run is a fresh tmpfs each time.
 */
const ENTRYPOINT = `#!/bin/bash
set -euo pipefail

# Docker mounts the (private-namespace) cgroup tree read-only; systemd and kubelet need to write it.
# Remounting keeps the tree scoped to this container, unlike bind-mounting the host's.
mount -o remount,rw,bind /sys/fs/cgroup 2>/dev/null || mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
for controller in /sys/fs/cgroup/*; do
  if mountpoint -q "$controller"; then
    mount -o remount,rw,bind "$controller" 2>/dev/null || mount -o remount,rw "$controller" 2>/dev/null || true
  fi
done

# kubelet and journald read the kernel log; fall back to the console where the engine gives none.
[ -e /dev/kmsg ] || ln -s /dev/console /dev/kmsg

# Volume mounts made by nested containers must propagate (kubelet relies on it).
mount --make-rshared / 2>/dev/null || true

# One machine id per machine, kept across restarts of the same container.
[ -s /etc/machine-id ] || systemd-machine-id-setup >/dev/null 2>&1 || true

# Units that ask for more open files than this container's hard limit fail with 205/LIMITS,
# and raising the limit needs CAP_SYS_RESOURCE, which engines often drop: cap every service here.
hard_nofile=$(ulimit -Hn)
if [ "$hard_nofile" != unlimited ]; then
  mkdir -p /run/systemd/system/service.d
  printf '[Service]\\nLimitNOFILE=%s\\n' "$hard_nofile" > /run/systemd/system/service.d/90-kiab-nofile.conf
fi

# Prefer nftables; fall back to legacy iptables on kernels without nf_tables.
if ! iptables-nft -w -t nat -L >/dev/null 2>&1; then
  update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
  update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
fi

exec "$@"
`;

/** containerd reads per-registry hosts.toml files, so kiab can map registry names without restarts. */
const CONTAINERD_CONFIG = `version = 2

[plugins."io.containerd.grpc.v1.cri"]
  # The pause image kiab builds for kubeadm clusters (kubeadm 1.34's version); imported, never pulled.
  sandbox_image = "registry.k8s.io/pause:3.10.1"
  # kubelet asks for oom_score_adj down to -998, which needs CAP_SYS_RESOURCE that machines lack;
  # clamp it at containerd's own value instead of failing every pod sandbox.
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"

[plugins."io.containerd.grpc.v1.cri".cni]
  # Debian's containernetworking-plugins live here, not in /opt/cni/bin.
  bin_dir = "/usr/lib/cni"
  conf_dir = "/etc/cni/net.d"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
`;

const JOURNALD = `[Journal]
# The kernel ring buffer is the host's, not this machine's.
ReadKMsg=no
Storage=volatile
`;

const SYSTEM = `[Manager]
# Boot progress on the console is how kiab sees that a machine has booted without exec'ing into it early.
ShowStatus=yes
`;

/** Units that make no sense in a container machine (no hardware, no consoles, no timers that touch disks). */
const MASKED_UNITS = [
  'systemd-udevd.service',
  'systemd-udev-trigger.service',
  'systemd-modules-load.service',
  'systemd-remount-fs.service',
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'getty.target',
  'console-getty.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
];

const PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'containerd', 'runc', 'iptables', 'nftables', 'iproute2', 'conntrack',
  'ca-certificates', 'curl', 'socat', 'procps', 'kmod', 'ethtool', 'util-linux', 'mount', 'ebtables', 'less',
  'containernetworking-plugins',
];

const DOCKERFILE = `ARG BASE
FROM \${BASE}
ENV container=docker DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ${PACKAGES.join(' ')} \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
RUN systemctl mask ${MASKED_UNITS.join(' ')} \\
 && systemctl enable containerd.service \\
 && systemctl set-default multi-user.target \\
 && : > /etc/machine-id && rm -f /var/lib/dbus/machine-id
COPY kiab-entrypoint /usr/local/bin/kiab-entrypoint
COPY containerd-config.toml /etc/containerd/config.toml
COPY journald.conf /etc/systemd/journald.conf.d/10-kiab.conf
COPY system.conf /etc/systemd/system.conf.d/10-kiab.conf
# systemd shuts down cleanly on SIGRTMIN+3; on SIGTERM it would re-execute itself.
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/kiab-entrypoint"]
CMD ["/sbin/init"]
`;

export const nodeRecipe: ImageRecipe = {
  name: 'node',
  repository: 'kiab/node',
  files: [
    { path: 'Dockerfile', content: DOCKERFILE },
    { path: 'kiab-entrypoint', content: ENTRYPOINT, mode: 0o755 },
    { path: 'containerd-config.toml', content: CONTAINERD_CONFIG },
    { path: 'journald.conf', content: JOURNALD },
    { path: 'system.conf', content: SYSTEM },
  ],
};
