//go:build tools

// Package etcd pins the etcd server (and etcdctl) as module requirements so
// `go mod tidy` keeps them. It lives in its own module because
// k8s.io/kubernetes already requires go.etcd.io/etcd/* at another version
// (as client libraries) and must keep exactly upstream's versions.
package etcd

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
