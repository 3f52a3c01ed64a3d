#!/usr/bin/env bash
# build.sh OUTDIR [NAME...]
#
# Compiles the cluster addons kiab installs from their Go modules (fetched
# through the Go module proxy), each from its own build-only module in this
# folder, pinned in its go.mod. NAMEs default to all of:
#   traefik metallb-controller metallb-speaker local-path-provisioner metrics-server
#   kube-network-policies
#   metallb-native.yaml (not a build: MetalLB's release manifest, copied from the
#   module, for its CustomResourceDefinitions)
#   gateway-api (not a build: the standard channel's CustomResourceDefinitions,
#   copied from the sigs.k8s.io/gateway-api module Traefik requires)
#   network-policy-api (likewise: AdminNetworkPolicy's and BaselineAdminNetworkPolicy's,
#   from the sigs.k8s.io/network-policy-api module kube-network-policies requires)
# Version stamps are the ones each upstream's own build sets, with the
# version the module pins.
#
# Env: KUBEBUILD_NICE (nice level, default 19).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR [NAME...]}
shift
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(traefik metallb-controller metallb-speaker local-path-provisioner metrics-server kube-network-policies metallb-native.yaml gateway-api network-policy-api)

mkdir -p "$out"
out=$(cd "$out" && pwd)
export CGO_ENABLED=0

for n in "${names[@]}"; do
  if [[ $n == metallb-native.yaml ]]; then
    dir=$(cd "$here/metallb" && go list -m -f '{{.Dir}}' go.universe.tf/metallb)
    install -m 0644 "$dir/config/manifests/metallb-native.yaml" "$out/$n"
    continue
  fi
  if [[ $n == gateway-api || $n == network-policy-api ]]; then
    # The version the addon's go.mod requires; download makes sure the module is there even before a build.
    case $n in
      gateway-api) by=traefik ;;
      network-policy-api) by=kube-network-policies ;;
    esac
    (cd "$here/$by" && go mod download "sigs.k8s.io/$n")
    dir=$(cd "$here/$by" && go list -m -f '{{.Dir}}' "sigs.k8s.io/$n")
    mkdir -p "$out/$n"
    install -m 0644 "$dir"/config/crd/standard/*.yaml "$out/$n/"
    continue
  fi
  case $n in
    traefik) dir=traefik mod=github.com/traefik/traefik/v3 pkg=$mod/cmd/traefik ;;
    metallb-controller) dir=metallb mod=go.universe.tf/metallb pkg=$mod/controller ;;
    metallb-speaker) dir=metallb mod=go.universe.tf/metallb pkg=$mod/speaker ;;
    local-path-provisioner) dir=local-path mod=github.com/rancher/local-path-provisioner pkg=$mod ;;
    metrics-server) dir=metrics-server mod=sigs.k8s.io/metrics-server pkg=$mod/cmd/metrics-server ;;
    kube-network-policies) dir=kube-network-policies mod=sigs.k8s.io/kube-network-policies pkg=$mod/cmd ;;
    *) echo "build.sh: unknown addon binary '$n'" >&2; exit 2 ;;
  esac
  ver=$(cd "$here/$dir" && go list -m -f '{{.Version}}' "$mod")
  date=$(cd "$here/$dir" && go list -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$mod")
  case $n in # the variables each upstream's Makefile or build script sets
    traefik) stamp="-X $mod/pkg/version.Version=$ver -X $mod/pkg/version.BuildDate=$date" ;;
    local-path-provisioner) stamp="-X main.VERSION=$ver" ;;
    metrics-server) stamp="-X k8s.io/client-go/pkg/version.gitVersion=$ver -X k8s.io/client-go/pkg/version.buildDate=$date" ;;
    *) stamp="" ;; # metallb's version is a constant in its source; kube-network-policies stamps none
  esac
  t0=$SECONDS
  nice -n "${KUBEBUILD_NICE:-19}" env -C "$here/$dir" go build -trimpath -ldflags "-s -w $stamp" -o "$out/$n" "$pkg"
  echo "build.sh: $n $ver: $((SECONDS - t0))s" >&2
done

ls -l "$out" >&2
