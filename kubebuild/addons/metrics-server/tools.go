//go:build tools

// Package metricsserver pins the upstream module build.sh compiles, so go mod tidy keeps it.
package metricsserver

import (
	_ "sigs.k8s.io/metrics-server/cmd/metrics-server"
)
