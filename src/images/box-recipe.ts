import { readPackageFile } from '../package-files.js';
import type { ImageRecipe } from './recipe.js';

/** Starts, reloads and reports HAProxy, which balances the API, web and TCP NodePorts over the machines. */
const LOAD_BALANCER = readPackageFile('src/images/files/kiab-box-lb.sh');

/**
 * Applies /etc/kiab/forwards (the UDP NodePorts) as DNAT rules in the box's own network namespace.
 * Own chains, flushed and refilled, so re-running it converges and Docker's DNS rules stay untouched.
 * Each line: PROTOCOL PORT_OR_RANGE TARGET_IP
 */
const FORWARD = readPackageFile('src/images/files/kiab-box-forward.sh');

/** Sets up forwarding and the load balancer, then serves the registry when the box has one, or sleeps until stopped. */
const ENTRYPOINT = readPackageFile('src/images/files/kiab-box-entrypoint.sh');

const DOCKERFILE = `ARG BASE
FROM \${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends docker-registry haproxy socat iptables iproute2 iputils-arping conntrack ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log \\
 && mkdir -p /etc/kiab /var/lib/docker-registry
COPY kiab-box-entrypoint /usr/local/bin/kiab-box-entrypoint
COPY kiab-box-forward /usr/local/bin/kiab-box-forward
COPY kiab-box-lb /usr/local/bin/kiab-box-lb
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
    { path: 'kiab-box-lb', content: LOAD_BALANCER, mode: 0o755 },
  ],
};
