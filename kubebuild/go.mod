module kiab.dev/kubebuild

go 1.24.0
