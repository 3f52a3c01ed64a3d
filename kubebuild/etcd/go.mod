module kiab.dev/kubebuild/etcd

go 1.24.0
