#!/usr/bin/env bash
# build.sh OUTDIR
#
# Compiles the CNI plugins a user's own pod network needs here (bridge, host-local, loopback) from
# github.com/containernetworking/plugins, fetched through the Go module proxy at the version go.mod pins.
# test/e2e/cni-none.test.ts installs them with a DaemonSet on a cluster made with networking.cni: none.
#
# Env: KUBEBUILD_NICE (nice level, default 19).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
mod=github.com/containernetworking/plugins
ver=$(cd "$here" && go list -m -f '{{.Version}}' "$mod")
cd "$here"
# The version stamp upstream's build_linux.sh sets.
CGO_ENABLED=0 nice -n "${KUBEBUILD_NICE:-19}" go build -trimpath -ldflags "-s -w -X $mod/pkg/utils/buildversion.BuildVersion=$ver" -o "$out/" \
  "$mod/plugins/main/bridge" "$mod/plugins/ipam/host-local" "$mod/plugins/main/loopback"
