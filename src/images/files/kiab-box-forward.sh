#!/bin/sh
set -eu
conf=/etc/kiab/forwards
ipt() { iptables -w "$@"; }
for chain in KIAB-PREROUTING KIAB-POSTROUTING; do
  ipt -t nat -N "$chain" 2>/dev/null || true
  ipt -t nat -F "$chain"
done
ipt -t nat -C PREROUTING -j KIAB-PREROUTING 2>/dev/null || ipt -t nat -A PREROUTING -j KIAB-PREROUTING
ipt -t nat -C POSTROUTING -j KIAB-POSTROUTING 2>/dev/null || ipt -t nat -A POSTROUTING -j KIAB-POSTROUTING
if [ -f "$conf" ]; then
  while read -r proto ports target; do
    case "$proto" in ''|'#'*) continue ;; esac
    ipt -t nat -A KIAB-PREROUTING -p "$proto" --dport "$ports" -j DNAT --to-destination "$target"
  done < "$conf"
fi
# Replies must come back through the box to be un-NATed.
ipt -t nat -A KIAB-POSTROUTING -m conntrack --ctstate DNAT -j MASQUERADE
