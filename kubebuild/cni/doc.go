// Package cni is a build-only module: tools.go (build tag "tools") pins the CNI plugins build.sh compiles for
// the end-to-end test of a cluster without kiab's pod network. Nothing here is meant to be imported.
package cni
