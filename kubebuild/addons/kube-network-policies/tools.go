//go:build tools

// Package kubenetworkpolicies pins the upstream module build.sh compiles, so go mod tidy keeps it.
package kubenetworkpolicies

import (
	_ "sigs.k8s.io/kube-network-policies/cmd"
)
