#!/bin/sh
set -eu
if ! iptables-nft -w -t nat -L >/dev/null 2>&1; then
  update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
fi
# The network namespace is new after every start: forwarding is re-applied each time.
/usr/local/bin/kiab-box-forward
if [ -f /etc/kiab/registry.yml ]; then
  exec /usr/bin/docker-registry serve /etc/kiab/registry.yml
fi
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
