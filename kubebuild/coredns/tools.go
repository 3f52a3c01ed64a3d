//go:build tools

// Package coredns pins CoreDNS as a module requirement so `go mod tidy`
// keeps it. It lives in its own module because CoreDNS depends on its own
// (different) versions of k8s.io/client-go and friends.
package coredns

import (
	_ "github.com/coredns/coredns"
)
