// Package etcd is a build-only module: tools.go (build tag "tools") pins the etcd source module that
// build.sh compiles. Nothing here is meant to be imported.
package etcd
