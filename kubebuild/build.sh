#!/usr/bin/env bash
# build.sh VERSION OUTDIR [NAME...]
#
# Compiles Kubernetes server binaries for VERSION (e.g. v1.34.4) from the
# k8s.io/kubernetes Go module (fetched through the Go module proxy) into
# OUTDIR, plus etcd, etcdctl and coredns from their own Go modules.
# NAMEs default to all of:
#   kubelet kubeadm kubectl kube-apiserver kube-controller-manager
#   kube-scheduler kube-proxy etcd etcdctl coredns pause
# and, only when named, the conformance suite:
#   e2e.test (go test -c k8s.io/kubernetes/test/e2e), ginkgo (the CLI, at the
#   version e2e.test uses), agnhost (with the TLS key pair and nautilus files
#   its images add) and nonewprivs (nnp), from k8s.io/kubernetes/test/images;
#   sample-apiserver and e2e-etcd (etcd at the version k8s.io/kubernetes requires)
#
# Each release's go.mod and go.sum are checked in under releases/VERSION/
# (written by gen-release.sh): kubernetes/, etcd/ and coredns/. The build lays
# them beside this folder's Go files in a scratch folder under
# ${KUBEBUILD_WORKDIR:-~/.cache/kiab-kubebuild}/VERSION, so the repo is never
# modified and no build resolves a module version of its own.
#
# Env: KUBE_GIT_COMMIT (gitCommit to stamp; the proxy does not tell it),
#      SOURCE_DATE_EPOCH (buildDate; default: the tag time the proxy reports),
#      KUBEBUILD_NICE (nice level, default 19).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ver=${1:?usage: build.sh VERSION OUTDIR [NAME...]}
out=${2:?usage: build.sh VERSION OUTDIR [NAME...]}
shift 2
if [[ ! $ver =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "build.sh: VERSION must look like v1.34.4, got '$ver'" >&2
  exit 2
fi
minor=${BASH_REMATCH[1]}

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager
  kube-scheduler kube-proxy etcd etcdctl coredns pause)

mkdir -p "$out"
out=$(cd "$out" && pwd)
export CGO_ENABLED=0
run() { nice -n "${KUBEBUILD_NICE:-19}" "$@"; }
step() { # step LABEL CMD... : run CMD, print how long it took
  local t0=$SECONDS label=$1
  shift
  "$@"
  echo "build.sh: $label: $((SECONDS - t0))s" >&2
}

# --- the release's modules ---------------------------------------------------
release=$here/releases/$ver
if [[ ! -f $release/kubernetes/go.mod ]]; then
  echo "build.sh: kiab has no module files for Kubernetes $ver (releases/$ver); known: $(cd "$here/releases" && echo *)" >&2
  exit 2
fi
work=${KUBEBUILD_WORKDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiab-kubebuild}/$ver
mkdir -p "$work/kubernetes" "$work/etcd" "$work/coredns"
cp "$here/tools.go" "$here/doc.go" "$release/kubernetes/"* "$work/kubernetes/"
for part in etcd coredns; do cp "$here/$part/tools.go" "$here/$part/doc.go" "$release/$part/"* "$work/$part/"; done
moddir=$work/kubernetes

# --- one go build per binary -------------------------------------------------
# One at a time, each announced as "build.sh: compiling NAME (i/N)" and with -v
# (every package as it compiles), so that kiab can say what is compiling and
# how far along it is. Go's build cache shares the common packages between
# them; warm, this costs a few seconds of linking against one combined build.
for n in "${names[@]}"; do
  case $n in
    kubelet | kubeadm | kubectl | kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy | \
      etcd | etcdctl | coredns | pause) ;;
    e2e.test | ginkgo | agnhost | nonewprivs | sample-apiserver | e2e-etcd) ;;
    *) echo "build.sh: unknown binary '$n'" >&2; exit 2 ;;
  esac
done

k8s_ldflags() {
  local build_date ldflags p
  if [[ -n ${SOURCE_DATE_EPOCH:-} ]]; then
    build_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
  else # the tag's time: reproducible, and keeps warm rebuilds a no-op
    build_date=$(cd "$moddir" && go list -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
  fi
  # Same variables as upstream's hack/lib/version.sh (kube::version::ldflags).
  # kubeadm refuses to run with the default v0.0.0-master+$Format:%H$ version.
  ldflags="-s -w"
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $p.gitVersion=$ver -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitCommit=${KUBE_GIT_COMMIT:-} -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
  done
  echo "$ldflags"
}

i=0
for n in "${names[@]}"; do
  i=$((i + 1))
  echo "build.sh: compiling $n ($i/${#names[@]})" >&2
  case $n in
    etcd | etcdctl | coredns | pause)
      # etcd, coredns: sibling modules with their own dependency graphs.
      case $n in
        etcd) dir=$work/etcd pkg=go.etcd.io/etcd/server/v3 ;;
        etcdctl) dir=$work/etcd pkg=go.etcd.io/etcd/etcdctl/v3 ;;
        coredns) dir=$work/coredns pkg=github.com/coredns/coredns ;;
        pause) dir=$here pkg=kiab.dev/kubebuild/cmd/pause ;;
      esac
      v=$(cd "$dir" && go list -m -f '{{.Version}}' "$pkg" 2>/dev/null || echo '(this module)')
      step "$n $v" run env -C "$dir" go build -v -trimpath -ldflags "-s -w" -o "$out/$n" "$pkg"
      ;;
    # The conformance suite: same module, so same staging versions as the cluster.
    e2e.test)
      ldflags=${ldflags:-$(k8s_ldflags)}
      # A test binary: `go test -c` (no vet: this is a build), with the tags upstream gives test targets too.
      step "e2e.test $ver" run env -C "$moddir" go test -c -v -vet=off -trimpath -tags selinux,notest,grpcnotrace \
        -ldflags "$ldflags" -o "$out/e2e.test" k8s.io/kubernetes/test/e2e
      ;;
    ginkgo)
      step "ginkgo $(cd "$moddir" && go list -m -f '{{.Version}}' github.com/onsi/ginkgo/v2)" \
        run env -C "$moddir" go build -v -trimpath -ldflags "-s -w" -o "$out/ginkgo" github.com/onsi/ginkgo/v2/ginkgo
      ;;
    agnhost)
      step "agnhost $(cat "$(cd "$moddir" && go list -f '{{.Dir}}' k8s.io/kubernetes/test/images/agnhost)/VERSION")" \
        run env -C "$moddir" go build -v -trimpath -ldflags "-s -w" -o "$out/agnhost" k8s.io/kubernetes/test/images/agnhost
      # The files upstream's agnhost, nautilus and kitten images add beside the binary (kitten's data.json
      # under a name of its own).
      images=$(cd "$moddir" && go list -f '{{.Dir}}' k8s.io/kubernetes/test/images/agnhost)/..
      install -m 0644 "$images/agnhost/porter/localhost.crt" "$images/agnhost/porter/localhost.key" \
        "$images/nautilus/html/nautilus.jpg" "$images/nautilus/html/data.json" "$images/kitten/html/kitten.jpg" "$out/"
      install -m 0644 "$images/kitten/html/data.json" "$out/kitten-data.json"
      ;;
    sample-apiserver)
      # The aggregator spec's pod: the sample API server at the version k8s.io/kubernetes requires.
      ldflags=${ldflags:-$(k8s_ldflags)}
      step "sample-apiserver $ver" run env -C "$moddir" go build -v -trimpath -tags selinux,notest,grpcnotrace \
        -ldflags "$ldflags" -o "$out/kube-sample-apiserver" k8s.io/sample-apiserver
      ;;
    e2e-etcd)
      step "etcd $(cd "$moddir" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3) for the e2e images" \
        run env -C "$moddir" go build -v -trimpath -ldflags "-s -w" -o "$out/e2e-etcd" go.etcd.io/etcd/server/v3
      ;;
    nonewprivs)
      step "nonewprivs (nnp)" run env -C "$moddir" go build -v -trimpath -ldflags "-s -w" -o "$out/nnp" k8s.io/kubernetes/test/images/nonewprivs
      ;;
    *)
      ldflags=${ldflags:-$(k8s_ldflags)}
      # Tags as in upstream's hack/lib/golang.sh for non-debug builds.
      step "$n $ver" run env -C "$moddir" go build -v -trimpath -tags selinux,notest,grpcnotrace \
        -ldflags "$ldflags" -o "$out/$n" "k8s.io/kubernetes/cmd/$n"
      ;;
  esac
done

ls -l "$out" >&2
