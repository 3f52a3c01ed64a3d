//go:build tools

// Package localpath pins the upstream module build.sh compiles, so go mod tidy keeps it.
package localpath

import (
	_ "github.com/rancher/local-path-provisioner"
)
