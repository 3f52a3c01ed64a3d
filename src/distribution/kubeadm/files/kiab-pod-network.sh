#!/bin/sh
set -eu
# POD_CIDR and SERVICE_CIDR: the cluster's IPv4 ranges, POD_CIDR6 and SERVICE_CIDR6 its IPv6 ones (each empty
# when the cluster lacks that family); CNI: kiab, or none when the user installs the pod network.
# Written by kiab with the machine's other files.
# shellcheck source=/dev/null
. /etc/kiab/pod-network.env
# Each family present, as its iptables command and its two ranges.
families() {
  [ -z "$POD_CIDR" ] || echo "iptables $POD_CIDR $SERVICE_CIDR"
  [ -z "$POD_CIDR6" ] || echo "ip6tables $POD_CIDR6 $SERVICE_CIDR6"
}
# A connection to a cluster IP that kube-proxy did not translate (a port the Service does not define) would
# leave by the default route and be answered by whatever the host's network puts there. Refuse it here, as
# kube-proxy's nftables mode does; translated traffic no longer has a cluster IP as its destination.
families | while read -r tables _pods services; do
  for chain in FORWARD OUTPUT; do
    $tables -w -C "$chain" -d "$services" -j REJECT 2>/dev/null || $tables -w -I "$chain" -d "$services" -j REJECT
  done
done
# The rest is kiab's pod network: a CNI the user installs brings its own routes, masquerading and policy. It
# installs its plugins in /opt/cni/bin, as upstream's manifests do, where containerd here looks in Debian's
# /usr/lib/cni (which holds the loopback plugin containerd itself runs): one directory under both names.
if [ "$CNI" != kiab ]; then
  [ -e /opt/cni/bin ] || { mkdir -p /opt/cni && ln -s /usr/lib/cni /opt/cni/bin; }
  exit 0
fi
[ -z "$POD_CIDR" ] || ip -4 route show root "$POD_CIDR" | awk '/ via / {print $1}' | while read -r subnet; do ip route del "$subnet" || true; done
[ -z "$POD_CIDR6" ] || ip -6 route show root "$POD_CIDR6" | awk '/ via / {print $1}' | while read -r subnet; do ip -6 route del "$subnet" || true; done
grep -v '^#' /etc/kiab/pod-routes 2>/dev/null | while read -r subnet via; do
  # A blank line is skipped; as `[ ] && ...` it would end the loop, and set -e the script, with status 1.
  [ -n "$subnet" ] || continue
  ip route replace "$subnet" via "$via"
done
families | while read -r tables pods _services; do
  $tables -w -t nat -C POSTROUTING -s "$pods" ! -d "$pods" -j MASQUERADE 2>/dev/null \
    || $tables -w -t nat -A POSTROUTING -s "$pods" ! -d "$pods" -j MASQUERADE
done
# The NetworkPolicy controller (kube-network-policies) hands the first packet of a connection to user space with
# nftables' queue statement. A kernel built without it (CONFIG_NFT_QUEUE unset; nft then says "Could not process
# rule: No such file or directory") refuses the controller's whole table, and no policy would hold. The xtables
# NFQUEUE target reaches the same queue: every new connection from or to a pod goes there, as the controller's own
# rules send it (after DNAT, before SNAT; not the root user's own, such as the kubelet's probes). --queue-bypass:
# while the controller does not run, packets pass instead of the whole pod network stopping.
# Which way the controller's packets reach it is written down for kiab, which leaves the controller's
# AdminNetworkPolicy support off without nftables' queue: that support starts a DNS agent of its own that needs it.
mkdir -p /run/kiab
if nft -c -f - >/dev/null 2>&1 <<'PROBE'
table inet kiab-queue-probe {
  chain probe { type filter hook postrouting priority 0; queue num 100 bypass; }
}
PROBE
then
  echo nftables >/run/kiab/policy-queue
else
  families | while read -r tables pods _services; do
    $tables -w -t mangle -N KIAB-NETWORK-POLICY 2>/dev/null || $tables -w -t mangle -F KIAB-NETWORK-POLICY
    $tables -w -t mangle -A KIAB-NETWORK-POLICY -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
    $tables -w -t mangle -A KIAB-NETWORK-POLICY -m owner --uid-owner 0 -j RETURN
    $tables -w -t mangle -A KIAB-NETWORK-POLICY -s "$pods" -j NFQUEUE --queue-num 100 --queue-bypass
    $tables -w -t mangle -A KIAB-NETWORK-POLICY -d "$pods" -j NFQUEUE --queue-num 100 --queue-bypass
    $tables -w -t mangle -C POSTROUTING -j KIAB-NETWORK-POLICY 2>/dev/null || $tables -w -t mangle -A POSTROUTING -j KIAB-NETWORK-POLICY
  done
  echo xtables >/run/kiab/policy-queue
fi
