// Package coredns is a build-only module: tools.go (build tag "tools") pins the coredns source module that
// build.sh compiles. Nothing here is meant to be imported.
package coredns
