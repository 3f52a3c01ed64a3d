#!/usr/bin/env bash
# list-test-images.sh VERSION
#
# Prints the test images kiab makes for the conformance suite of one Kubernetes
# release, as that release's test/utils/image/manifest.go names them (one
# reference per line). The suite asks for these exact tags, and they move from
# release to release. gen-release.sh writes the list into releases/VERSION/;
# src/distribution/kubeadm/releases.ts carries it (a unit test holds the two
# together) and src/distribution/kubeadm/conformance-images.ts has a recipe per
# image name.
set -euo pipefail

ver=${1:?usage: list-test-images.sh vX.Y.Z}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$(cd "$tmp" && go mod download -json "k8s.io/kubernetes@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
manifest=$src/test/utils/image/manifest.go
[[ -f $manifest ]] || { echo "list-test-images.sh: no test image manifest in k8s.io/kubernetes@$ver" >&2; exit 1; }

# The registries' defaults, e.g. PromoterE2eRegistry: "registry.k8s.io/e2e-test-images".
registry() { sed -nE "s/^[[:space:]]*$1:[[:space:]]*\"([^\"]+)\".*/\\1/p" "$manifest" | head -n 1; }
e2e=$(registry PromoterE2eRegistry)
etcd=$(registry GcEtcdRegistry)
[[ -n $e2e && -n $etcd ]] || { echo "list-test-images.sh: registries not found in $manifest" >&2; exit 1; }

# The images the [Conformance] specs run that kiab makes; other ids of the manifest belong to other suites.
ids='Agnhost|AgnhostPrev|APIServer|BusyBox|Etcd|GlibcDnsTesting|Httpd|HttpdNew|JessieDnsutils|Kitten|Nautilus|Nginx|NginxNew|Nonewprivs'
sed -nE "s/^[[:space:]]*configs\\[($ids)\\][[:space:]]*=[[:space:]]*Config\\{list\\.([A-Za-z0-9]+),[[:space:]]*\"([^\"]+)\",[[:space:]]*\"([^\"]+)\"\\}.*/\\2 \\3:\\4/p" "$manifest" |
  sed -e "s#^PromoterE2eRegistry #$e2e/#" -e "s#^GcEtcdRegistry #$etcd/#" | sort
