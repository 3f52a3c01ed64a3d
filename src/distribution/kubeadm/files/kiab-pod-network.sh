#!/bin/sh
set -eu
ip -4 route show root 10.244.0.0/16 | awk '/ via / {print $1}' | while read -r subnet; do ip route del "$subnet" || true; done
grep -v '^#' /etc/kiab/pod-routes 2>/dev/null | while read -r subnet via; do
  # A blank line is skipped; as `[ ] && ...` it would end the loop, and set -e the script, with status 1.
  [ -n "$subnet" ] || continue
  ip route replace "$subnet" via "$via"
done
iptables -w -t nat -C POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE 2>/dev/null \
  || iptables -w -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE
# A connection to a cluster IP that kube-proxy did not translate (a port the Service does not define) would
# leave by the default route and be answered by whatever the host's network puts there. Refuse it here, as
# kube-proxy's nftables mode does; translated traffic no longer has a cluster IP as its destination.
for chain in FORWARD OUTPUT; do
  iptables -w -C "$chain" -d 10.96.0.0/16 -j REJECT 2>/dev/null || iptables -w -I "$chain" -d 10.96.0.0/16 -j REJECT
done
