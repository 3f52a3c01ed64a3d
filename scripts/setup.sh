#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine for kiab from nothing: the engine, debootstrap, shellcheck, Node dependencies,
# the bundle and the offline images. Safe to re-run: every step checks before it acts.
# KIAB_SETUP_DEMO=1 also creates a demo cluster at the end (the README's quick start does).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_packages=()
command -v dockerd >/dev/null || need_packages+=(docker.io)
command -v debootstrap >/dev/null || need_packages+=(debootstrap)
command -v iptables-save >/dev/null || need_packages+=(iptables)
command -v shellcheck >/dev/null || need_packages+=(shellcheck)
command -v openssl >/dev/null || need_packages+=(openssl)
[ -x /bin/busybox ] && file_ok=1 || file_ok=0
dpkg -s busybox-static >/dev/null 2>&1 || need_packages+=(busybox-static)
if [ ${#need_packages[@]} -gt 0 ]; then
  log "installing ${need_packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi
: "$file_ok"

# Every machine's processes count against the engine user's inotify limits (128 instances by default): a
# second kubeadm cluster would not fit. Raise them as kind recommends, persistently, where we may.
raise_sysctl() {
  local key=$1 wanted=$2 path current
  path=/proc/sys/${key//.//}
  current=$(cat "$path" 2>/dev/null || echo 0)
  if [ "$current" -lt "$wanted" ]; then
    log "raising $key from $current to $wanted (/etc/sysctl.d/90-kiab.conf)"
    as_root sysctl -qw "$key=$wanted" || log "could not raise $key: kiab up will say when a cluster does not fit"
  fi
  as_root sh -c "grep -qs '^$key' /etc/sysctl.d/90-kiab.conf || echo '$key = $wanted' >> /etc/sysctl.d/90-kiab.conf" || true
}
raise_sysctl fs.inotify.max_user_instances 512
raise_sysctl fs.inotify.max_user_watches 524288

if ! docker info >/dev/null 2>&1; then
  log 'starting dockerd'
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    as_root systemctl start docker
  else
    as_root bash -c 'nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo 'dockerd did not start; see /var/log/dockerd.log' >&2; exit 1; }
fi

log 'installing node dependencies'
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >/dev/null
fi
log 'bundling the CLI'
npm run --silent build

# Images are cached in the engine by recipe hash: a second run builds nothing.
log 'building node and box images (offline base from debootstrap when none is present)'
node bin/kiab.mjs image build --base-from-debootstrap

# Kubernetes from source for the kubeadm distribution: no release can be downloaded here. Go's caches and
# kiab's asset cache live outside the clone, so a warm machine verifies in seconds instead of compiling.
if command -v go >/dev/null; then
  log 'building kubeadm assets, the addons and the conformance suite from their Go modules (cold: ~7 + ~10 + ~15 min on 2 cores)'
  node bin/kiab.mjs assets build --k8s kubeadm --conformance
  # `kiab upgrade` and its suite start from the minor before the default (Kubernetes alone, cold: ~6 min).
  log 'building the previous minor, Kubernetes 1.36, to upgrade from'
  node bin/kiab.mjs assets build --k8s kubeadm --k8s-version 1.36
else
  log 'go not found: skipping the kubeadm assets (the kubeadm end-to-end suite will report itself skipped)'
fi

# What is left for kiab to need, each finding with its fix. A finding that stops `kiab up` is shown here
# and again by `up` itself, which refuses on the same checks: setup goes on either way.
log 'checking the host (kiab doctor)'
node bin/kiab.mjs doctor || log 'kiab doctor found something that stops kiab up: see the lines marked ✗ above'

if [ "${KIAB_SETUP_DEMO:-0}" = 1 ]; then
  log 'creating the demo cluster'
  if command -v go >/dev/null; then
    # The default distribution, kubeadm, from the assets built above.
    node bin/kiab.mjs up demo --workers 2
  else
    # Without Go, kubeadm's release where there is network; where there is none, `up` refuses at once,
    # creating nothing, and bare machines stand in.
    node bin/kiab.mjs up demo --workers 2 || node bin/kiab.mjs up demo --k8s none --workers 2
  fi
fi
