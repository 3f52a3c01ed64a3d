import { isIP } from 'node:net';

/*
 * Ports a user adds to a cluster after `up` (`kiab port add`). Docker fixes a container's published ports
 * when it is made, and making the box again would cut the API and the registry off for a second or more: each
 * added port is published by a door, a small container of the box image that passes what arrives to the box,
 * whose load balancer (TCP) or forward (UDP) takes it on to the machines. The door's labels are the record.
 */

export const PROTOCOLS = ['tcp', 'udp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Which machines an added port reaches: every worker (every server when there are none), every server, or one machine by name. */
export type PortTarget = 'workers' | 'servers' | { machine: string };

export interface PortMapping {
  hostPort: number;
  targetPort: number;
  protocol: Protocol;
}

export interface AddedPort extends PortMapping {
  /** The host address the door publishes on. */
  listen: string;
  to: PortTarget;
  /** The port the box listens on for it, and the door's own: one of ADDED_BOX_PORTS. */
  boxPort: number;
}

/** Box ports for added ports: clear of the box's own (80, 443, 5000, 6443) and of the NodePort range. */
export const ADDED_BOX_PORTS = { first: 20000, last: 29999 } as const;

const MAPPING = /^(\d+):(\d+)(?:\/(tcp|udp))?$/;

function portNumber(text: string): number | undefined {
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? value : undefined;
}

/** Reads HOSTPORT:TARGETPORT[/tcp|/udp]; a string that says what is wrong otherwise. */
export function parsePortMapping(text: string): PortMapping | string {
  const match = MAPPING.exec(text.trim());
  if (!match) return `"${text}" is not HOSTPORT:TARGETPORT, HOSTPORT:TARGETPORT/tcp or HOSTPORT:TARGETPORT/udp`;
  const hostPort = portNumber(match[1]!);
  const targetPort = portNumber(match[2]!);
  if (hostPort === undefined) return `host port ${match[1]} is outside 1-65535`;
  if (targetPort === undefined) return `target port ${match[2]} is outside 1-65535`;
  return { hostPort, targetPort, protocol: (match[3] as Protocol | undefined) ?? 'tcp' };
}

/** Reads `workers`, `servers` or a machine name (checked against the cluster later). */
export function parsePortTarget(text: string): PortTarget {
  return text === 'workers' || text === 'servers' ? text : { machine: text };
}

export function describeTarget(to: PortTarget): string {
  return typeof to === 'string' ? to : to.machine;
}

/** An IPv4 address the host may listen on; 0.0.0.0 is every address. */
export function isListenAddress(text: string): boolean {
  return isIP(text) === 4;
}

/** The lowest box port no added port uses, or undefined when all are taken. */
export function nextBoxPort(used: readonly AddedPort[]): number | undefined {
  const taken = new Set(used.map((port) => port.boxPort));
  for (let port = ADDED_BOX_PORTS.first; port <= ADDED_BOX_PORTS.last; port += 1) if (!taken.has(port)) return port;
  return undefined;
}

/** Reads a door's label, refusing anything that is not a whole added port. */
export function parseAddedPort(raw: unknown): AddedPort {
  const value = raw as Partial<AddedPort>;
  const ports = [value.hostPort, value.targetPort, value.boxPort];
  if (!ports.every((port) => typeof port === 'number' && portNumber(String(port)) !== undefined)) throw new Error('bad port numbers');
  if (!PROTOCOLS.includes(value.protocol as Protocol) || typeof value.listen !== 'string' || !isListenAddress(value.listen)) throw new Error('bad port');
  const to = value.to;
  if (!(to === 'workers' || to === 'servers' || (typeof to === 'object' && to !== null && typeof to.machine === 'string'))) throw new Error('bad target');
  return value as AddedPort;
}

export function compareAddedPorts(a: AddedPort, b: AddedPort): number {
  return a.hostPort - b.hostPort || a.protocol.localeCompare(b.protocol);
}
