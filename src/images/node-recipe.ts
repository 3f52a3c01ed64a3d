import { readPackageFile } from '../package-files.js';
import type { ImageRecipe } from './recipe.js';
// containerd reads per-registry hosts.toml files, so kiab can map registry names without restarts.
import { CONTAINERD_CONFIG } from './containerd-config.js';

/**
 * Runs before systemd: makes the container behave like a machine, then execs /sbin/init.
 * Everything here is re-done at every start, because /run is a fresh tmpfs each time.
 */
const ENTRYPOINT = readPackageFile('src/images/files/kiab-entrypoint.sh');

/** The kernel ring buffer is the host's, not this machine's; logs stay in memory. */
const JOURNALD = readPackageFile('src/images/files/journald.conf');

/** Boot progress on the console tells kiab that a machine has booted. */
const SYSTEM = readPackageFile('src/images/files/system.conf');

/** Units that make no sense in a container machine (no hardware, no consoles, no timers that touch disks), or that
 * would slow every boot for nothing. */
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
  // The engine gives the machine its /dev and the host's kernel: no static device nodes, modules, hugepage or
  // FUSE mounts to set up, and /run (where /run/lock lives) is already a tmpfs.
  'systemd-tmpfiles-setup-dev-early.service',
  'systemd-tmpfiles-setup-dev.service',
  'modprobe@.service',
  'dev-hugepages.mount',
  'sys-fs-fuse-connections.mount',
  'run-lock.mount',
  // First-boot bookkeeping for an updated /usr (users, linker cache, journal catalog) that the package
  // installs above already did: every new machine would redo it, on the critical path of its boot.
  'systemd-sysusers.service',
  'ldconfig.service',
  'systemd-journal-catalog-update.service',
  'systemd-update-done.service',
  // The journal lives in memory (journald.conf): there is nothing to flush to disk.
  'systemd-journal-flush.service',
];

/**
 * Generators that would read hardware, boot loaders, the kernel command line (the host's, in a container),
 * SysV scripts (every package here ships a unit) or rc.local: none applies to a container machine, and each
 * runs before every boot's first unit starts. Masked as systemd.generator(7) says, by a link to /dev/null.
 */
const MASKED_GENERATORS = [
  'systemd-debug-generator',
  'systemd-getty-generator',
  'systemd-gpt-auto-generator',
  'systemd-hibernate-resume-generator',
  'systemd-rc-local-generator',
  'systemd-run-generator',
  'systemd-ssh-generator',
  'systemd-system-update-generator',
  'systemd-sysv-generator',
  'systemd-tpm2-generator',
];

const PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'containerd',
  'runc',
  'iptables',
  'nftables',
  'iproute2',
  'conntrack',
  'ca-certificates',
  'curl',
  'socat',
  'procps',
  'kmod',
  'ethtool',
  'util-linux',
  'mount',
  'ebtables',
  'less',
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
 && : > /etc/machine-id && rm -f /var/lib/dbus/machine-id \\
 && mkdir -p /etc/systemd/system-generators \\
 && for generator in ${MASKED_GENERATORS.join(' ')}; do ln -s /dev/null /etc/systemd/system-generators/$generator; done
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
