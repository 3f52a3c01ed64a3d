#!/bin/sh
# Runs the kubeadm upgrade command it is given (`kubeadm upgrade apply ...` or `kubeadm upgrade node ...`) on a
# server, and breaks one wait that command would otherwise sit through.
#
# kubeadm replaces etcd's static pod while this server's API server keeps running. Before the kubelet starts
# the new etcd, it deletes the old etcd's mirror pod through that API server, which has no etcd to write to:
# the request hangs until the API server times it out (about 34 s), and the API server's etcd client then
# backs off for about 20 s more. So when the kubelet says it sends that request, this script kills the API
# server's process: the request fails at once, the kubelet starts the new etcd, and it starts the API server
# again, against the new etcd. Killing it loses nothing: etcd holds the state. A kubelet that never logs the
# request (one that does not wait on it) is left alone.
set -eu

unblock() {
  journalctl --unit kubelet --follow --lines 0 --output cat | while IFS= read -r line; do
    case $line in
      *'Trying to delete pod'*'pod="kube-system/etcd-'*)
        # The request goes out as the line is written: the API server dies while it waits.
        sleep 1
        echo "kiab: the kubelet waits on the old etcd's mirror pod: restarting the API server" >&2
        pkill -KILL -x kube-apiserver || true
        break
        ;;
    esac
  done
}

unblock &
watcher=$!
status=0
"$@" || status=$?
# The watcher's journalctl would run until it next writes.
pkill -P "$watcher" || true
kill "$watcher" 2>/dev/null || true
exit "$status"
