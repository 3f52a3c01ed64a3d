#!/usr/bin/env bash
# The static checks CI runs: type check, lint (TypeScript and shell), format, the generated files, import cycles,
# and go vet on every kubebuild module. Each one runs even when an earlier one failed; the exit code is 1 if any did.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

failed=()
check() {
  local name=$1
  shift
  if ! "$@"; then failed+=("$name"); fi
}

for script in typecheck lint lint:sh format:check schema:check check:cycles docs:check; do
  check "npm run $script" npm run --silent "$script"
done
vet() { (cd "$1" && go vet ./...); }
for module in kubebuild kubebuild/etcd kubebuild/coredns kubebuild/addons/traefik kubebuild/addons/metallb kubebuild/addons/local-path kubebuild/addons/metrics-server kubebuild/addons/kube-network-policies kubebuild/cni; do
  check "go vet in $module" vet "$module"
done

if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo '== every static check passed'
