import type { ImageRecipe } from './recipe.js';

/**
 * Applies /etc/kiab/forwards as DNAT rules in the box's own network namespace.
 * Own chains, flushed and refilled, so re-running it converges and Docker's DNS rules stay untouched.
 * Each line: PROTOCOL PORT_OR_RANGE TARGET_IP
 */
const FORWARD = `#!/bin/sh
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
`;

const ENTRYPOINT = `#!/bin/sh
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
`;

const DOCKERFILE = `ARG BASE
FROM \${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends docker-registry iptables iproute2 conntrack ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log \\
 && mkdir -p /etc/kiab /var/lib/docker-registry
COPY kiab-box-entrypoint /usr/local/bin/kiab-box-entrypoint
COPY kiab-box-forward /usr/local/bin/kiab-box-forward
EXPOSE 5000
ENTRYPOINT ["/usr/local/bin/kiab-box-entrypoint"]
`;

export const boxRecipe: ImageRecipe = {
  name: 'box',
  repository: 'kiab/box',
  files: [
    { path: 'Dockerfile', content: DOCKERFILE },
    { path: 'kiab-box-entrypoint', content: ENTRYPOINT, mode: 0o755 },
    { path: 'kiab-box-forward', content: FORWARD, mode: 0o755 },
  ],
};
