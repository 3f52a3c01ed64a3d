// Package kubenetworkpolicies is a build-only module: tools.go (build tag "tools") pins the source module build.sh
// compiles. Nothing here is meant to be imported.
package kubenetworkpolicies
