//go:build tools

// This file only pins the Kubernetes server commands as module
// requirements so that `go mod tidy` keeps k8s.io/kubernetes (and the exact
// dependency graph needed to build them) in go.mod/go.sum. It is never
// compiled: build.sh builds the commands directly by import path.
package kubebuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
