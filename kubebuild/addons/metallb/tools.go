//go:build tools

// Package metallb pins the upstream module build.sh compiles, so go mod tidy keeps it.
package metallb

import (
	_ "go.universe.tf/metallb/controller"
	_ "go.universe.tf/metallb/speaker"
)
