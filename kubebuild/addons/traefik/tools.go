//go:build tools

// Package traefik pins the upstream module build.sh compiles, so go mod tidy keeps it.
package traefik

import (
	_ "github.com/traefik/traefik/v3/cmd/traefik"
)
