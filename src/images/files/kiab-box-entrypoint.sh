#!/bin/sh
set -eu
if ! iptables-nft -w -t nat -L >/dev/null 2>&1; then
  update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
fi
# The network namespace and the processes are new after every start: routing is re-applied each time.
/usr/local/bin/kiab-box-forward
# The registry keeps serving even when the load balancer cannot start; status then shows its backends as unknown.
/usr/local/bin/kiab-box-lb start || echo "kiab-box: the load balancer did not start" >&2
if [ -f /etc/kiab/registry.yml ]; then
  exec /usr/bin/docker-registry serve /etc/kiab/registry.yml
fi
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
