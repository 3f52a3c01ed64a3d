#!/bin/bash
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
  printf '[Service]\nLimitNOFILE=%s\n' "$hard_nofile" > /run/systemd/system/service.d/90-kiab-nofile.conf
fi

# Prefer nftables; fall back to legacy iptables on kernels without nf_tables.
if ! iptables-nft -w -t nat -L >/dev/null 2>&1; then
  update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
  update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
fi

exec "$@"
