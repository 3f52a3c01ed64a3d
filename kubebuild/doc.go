// Package kubebuild is a build-only Go module: its go.mod pins
// k8s.io/kubernetes (plus every staging module, see gen-replaces.sh) and
// build.sh compiles the Kubernetes server binaries from the module cache.
// tools.go (build tag "tools") keeps the requirement alive for go mod tidy.
// Nothing here is meant to be imported.
package kubebuild
