module kiab.dev/kubebuild/coredns

go 1.24.0
