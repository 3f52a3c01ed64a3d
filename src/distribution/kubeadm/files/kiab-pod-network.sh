#!/bin/sh
set -eu
# POD_CIDR and SERVICE_CIDR: the cluster's ranges; CNI: kiab, or none when the user installs the pod network.
# Written by kiab with the machine's other files.
# shellcheck source=/dev/null
. /etc/kiab/pod-network.env
# A connection to a cluster IP that kube-proxy did not translate (a port the Service does not define) would
# leave by the default route and be answered by whatever the host's network puts there. Refuse it here, as
# kube-proxy's nftables mode does; translated traffic no longer has a cluster IP as its destination.
for chain in FORWARD OUTPUT; do
  iptables -w -C "$chain" -d "$SERVICE_CIDR" -j REJECT 2>/dev/null || iptables -w -I "$chain" -d "$SERVICE_CIDR" -j REJECT
done
# The rest is kiab's pod network: a CNI the user installs brings its own routes, masquerading and policy. It
# installs its plugins in /opt/cni/bin, as upstream's manifests do, where containerd here looks in Debian's
# /usr/lib/cni (which holds the loopback plugin containerd itself runs): one directory under both names.
if [ "$CNI" != kiab ]; then
  [ -e /opt/cni/bin ] || { mkdir -p /opt/cni && ln -s /usr/lib/cni /opt/cni/bin; }
  exit 0
fi
ip -4 route show root "$POD_CIDR" | awk '/ via / {print $1}' | while read -r subnet; do ip route del "$subnet" || true; done
grep -v '^#' /etc/kiab/pod-routes 2>/dev/null | while read -r subnet via; do
  # A blank line is skipped; as `[ ] && ...` it would end the loop, and set -e the script, with status 1.
  [ -n "$subnet" ] || continue
  ip route replace "$subnet" via "$via"
done
iptables -w -t nat -C POSTROUTING -s "$POD_CIDR" ! -d "$POD_CIDR" -j MASQUERADE 2>/dev/null \
  || iptables -w -t nat -A POSTROUTING -s "$POD_CIDR" ! -d "$POD_CIDR" -j MASQUERADE
# The NetworkPolicy controller (kube-network-policies) hands the first packet of a connection to user space with
# nftables' queue statement. A kernel built without it (CONFIG_NFT_QUEUE unset; nft then says "Could not process
# rule: No such file or directory") refuses the controller's whole table, and no policy would hold. The xtables
# NFQUEUE target reaches the same queue: every new connection from or to a pod goes there, as the controller's own
# rules send it (after DNAT, before SNAT; not the root user's own, such as the kubelet's probes). --queue-bypass:
# while the controller does not run, packets pass instead of the whole pod network stopping.
if ! nft -c -f - >/dev/null 2>&1 <<'PROBE'
table inet kiab-queue-probe {
  chain probe { type filter hook postrouting priority 0; queue num 100 bypass; }
}
PROBE
then
  iptables -w -t mangle -N KIAB-NETWORK-POLICY 2>/dev/null || iptables -w -t mangle -F KIAB-NETWORK-POLICY
  iptables -w -t mangle -A KIAB-NETWORK-POLICY -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  iptables -w -t mangle -A KIAB-NETWORK-POLICY -m owner --uid-owner 0 -j RETURN
  iptables -w -t mangle -A KIAB-NETWORK-POLICY -s "$POD_CIDR" -j NFQUEUE --queue-num 100 --queue-bypass
  iptables -w -t mangle -A KIAB-NETWORK-POLICY -d "$POD_CIDR" -j NFQUEUE --queue-num 100 --queue-bypass
  iptables -w -t mangle -C POSTROUTING -j KIAB-NETWORK-POLICY 2>/dev/null || iptables -w -t mangle -A POSTROUTING -j KIAB-NETWORK-POLICY
fi
