import type { AddedPort, PortTarget } from '../net/added-ports.js';
import { BOX_PORT, NODE_PORT_RANGE } from '../net/ports.js';
import type { Directive, HaproxyConfig, HaproxySection } from './haproxy.js';

export { parseShowStat, renderHaproxy, type ServerHealth } from './haproxy.js';

/** A machine the box balances over. */
export interface Backend {
  name: string;
  ip: string;
}

/** How the box tells a healthy machine from one that is down; without a check a machine is tried, and skipped when it refuses. */
export interface LoadBalancerChecks {
  /** An HTTPS request to each server's API, its certificate verified against this CA file in the box (TCP connect otherwise). */
  api?: { path: string; caFile: string };
  /** An HTTP request to each machine's service proxy health endpoint, for the NodePort range. */
  nodePorts?: { port: number; path: string };
}

export interface LoadBalancerPlan {
  /** The API's backends: every server. */
  servers: Backend[];
  /** 80, 443 and the TCP NodePorts: every worker, or every server when there are none. */
  web: Backend[];
  /** Added TCP ports (`kiab port add`): each listens on its box port and goes to its target port on its machines. */
  added: AddedListener[];
  checks: LoadBalancerChecks;
}

export interface AddedListener {
  name: string;
  boxPort: number;
  targetPort: number;
  backends: Backend[];
}

/** How status, the load balancer and the forward name an added port: `port-8080`, `port-5353-udp`. */
export function addedPortName(port: Pick<AddedPort, 'hostPort' | 'protocol'>): string {
  return port.protocol === 'tcp' ? `port-${port.hostPort}` : `port-${port.hostPort}-udp`;
}

/** The machines an added port goes to: the same web set as 80 and 443, every server, or the one machine named. */
export function addedPortBackends(to: PortTarget, plan: Pick<LoadBalancerPlan, 'servers' | 'web'>, machines: readonly Backend[]): Backend[] {
  if (to === 'workers') return plan.web;
  if (to === 'servers') return plan.servers;
  return machines.filter((machine) => machine.name === to.machine).map(({ name, ip }) => ({ name, ip }));
}

/** The names of the balanced ports, as status reports them. */
export const BALANCED = ['api', 'http', 'https', 'nodeports'] as const;
export type Balanced = (typeof BALANCED)[number];

export const STATS_SOCKET = '/run/kiab/haproxy.sock';
/** Where kiab-box-lb saves the servers' health before a reload, for the new process to start from. */
export const SERVER_STATE_FILE = '/run/kiab/haproxy.state';

export function loadBalancerPlan(
  machines: ReadonlyArray<Backend & { role: string }>,
  checks: LoadBalancerChecks,
  added: readonly AddedPort[] = [],
): LoadBalancerPlan {
  const servers = machines.filter((machine) => machine.role === 'server');
  const workers = machines.filter((machine) => machine.role === 'worker');
  const pick = ({ name, ip }: Backend): Backend => ({ name, ip });
  const sets = { servers: servers.map(pick), web: (workers.length > 0 ? workers : servers).map(pick) };
  const listeners = added
    .filter((port) => port.protocol === 'tcp')
    .map((port) => ({ name: addedPortName(port), boxPort: port.boxPort, targetPort: port.targetPort, backends: addedPortBackends(port.to, sets, machines) }));
  return { ...sets, added: listeners, checks };
}

function httpCheck(path: string): Directive[] {
  return [
    ['option', 'httpchk'],
    ['http-check', 'send', 'meth', 'GET', 'uri', path],
    ['http-check', 'expect', 'status', 200],
  ];
}

function listener(name: string, bind: string[], backend: Directive[], servers: Directive[]): HaproxySection[] {
  return [
    {
      kind: 'frontend',
      name,
      directives: [
        ['bind', ...bind],
        ['default_backend', name],
      ],
    },
    { kind: 'backend', name, directives: [['balance', 'roundrobin'], ...backend, ...servers] },
  ];
}

/**
 * TCP load balancing with health checks: the API over every server, web and NodePorts over the workers.
 * Connections are passed through untouched (TLS ends on the servers, whose certificates name the box), a
 * connection refused or timed out is retried on another machine, and a reload lets established
 * connections finish on the old process.
 */
export function loadBalancerConfig(plan: LoadBalancerPlan, options: { bothFamilies?: boolean } = {}): HaproxyConfig {
  const { api, nodePorts } = plan.checks;
  // A box on a network with IPv6 answers on its IPv6 address too: one socket for both families.
  const bind = (ports: number | string): string[] => (options.bothFamilies ? [`:::${ports}`, 'v4v6'] : [`:${ports}`]);
  const apiServers = plan.servers.map((server): Directive => [
    'server',
    server.name,
    `${server.ip}:${BOX_PORT.api}`,
    'check',
    ...(api ? ['check-ssl', 'verify', 'required', 'ca-file', api.caFile] : []),
  ]);
  const web = (port: number): Directive[] => plan.web.map((machine): Directive => ['server', machine.name, `${machine.ip}:${port}`, 'check']);
  // No port on these servers: HAProxy connects to the port the client asked for.
  const nodePortServers = plan.web.map((machine): Directive => ['server', machine.name, machine.ip, ...(nodePorts ? ['check', 'port', nodePorts.port] : [])]);
  return [
    {
      kind: 'global',
      directives: [
        ['maxconn', 4096],
        ['stats', 'socket', STATS_SOCKET, 'mode', 600, 'level', 'user'],
        ['server-state-file', SERVER_STATE_FILE],
        // Old processes keep serving their connections after a reload, but not for ever.
        ['hard-stop-after', '1h'],
      ],
    },
    {
      kind: 'defaults',
      directives: [
        ['mode', 'tcp'],
        ['load-server-state-from-file', 'global'],
        ['timeout', 'connect', '2s'],
        ['timeout', 'check', '2s'],
        // Watches and `kubectl logs -f` hold a connection open for long.
        ['timeout', 'client', '1h'],
        ['timeout', 'server', '1h'],
        ['retries', 2],
        ['option', 'redispatch', 1],
        // A server that is down (an API starting after a reset or a snapshot's pause) is checked every 100 ms,
        // and one good check brings it back (its API's /readyz, verified against the cluster CA, says all there
        // is to say): it serves within a tenth of a second of answering. Checking a server that is not up yet
        // costs a refused connection or a 503, little for either side.
        ['default-server', 'inter', '1s', 'fastinter', '250ms', 'downinter', '100ms', 'fall', 2, 'rise', 1],
      ],
    },
    ...listener('api', bind(BOX_PORT.api), api ? httpCheck(api.path) : [], apiServers),
    ...listener('http', bind(BOX_PORT.http), [], web(BOX_PORT.http)),
    ...listener('https', bind(BOX_PORT.https), [], web(BOX_PORT.https)),
    ...listener('nodeports', bind(`${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`), nodePorts ? httpCheck(nodePorts.path) : [], nodePortServers),
    // A connection to an added port is tried on its machines in turn: a refused one is retried on the next.
    ...plan.added.flatMap((port) =>
      listener(
        port.name,
        bind(port.boxPort),
        [],
        port.backends.map((machine): Directive => ['server', machine.name, `${machine.ip}:${port.targetPort}`, 'check']),
      ),
    ),
  ];
}
