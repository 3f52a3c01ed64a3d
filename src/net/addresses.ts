import type { MachineRole } from '../labels.js';
import { cidrsOverlap } from './cidr.js';

/**
 * Fixed addresses inside a cluster's /24. Kubernetes certificates and snapshots depend on them,
 * so they follow from role and index alone and never from the order containers happened to start.
 */
export const GATEWAY_HOST = 1;
export const BOX_HOST = 2;
const SERVER_FIRST = 10;
export const MAX_SERVER_INDEX = 39; // .10 - .49
const WORKER_FIRST = 50;
export const MAX_WORKER_INDEX = 149; // .50 - .199
/** Never given to a machine: the load balancer addon's pool (src/addons/loadbalancer.ts), .200 - .250. */
export const RESERVED_HOSTS = { first: 200, last: 250 } as const;
/** The doors that publish added ports (src/net/added-ports.ts): the hosts no machine, box or pool takes. */
export const DOOR_HOSTS = [3, 4, 5, 6, 7, 8, 9, 251, 252, 253, 254] as const;

export interface Subnet {
  cidr: string;
  /** The first three octets, e.g. "172.28.3". */
  prefix: string;
}

export function parseSubnet(cidr: string): Subnet {
  const match = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(cidr);
  if (!match) throw new Error(`not an IPv4 /24: ${cidr}`);
  return { cidr, prefix: match[1]! };
}

/** The cluster /24 a machine's address is in (kiab's networks are /24s): 172.28.3.50 -> 172.28.3.0/24. */
export function subnetOfAddress(ip: string): string {
  return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
}

export function gatewayAddress(subnet: Subnet): string {
  return `${subnet.prefix}.${GATEWAY_HOST}`;
}

export function boxAddress(subnet: Subnet): string {
  return `${subnet.prefix}.${BOX_HOST}`;
}

/** The first door address no door in `used` holds, or undefined when every one is taken. */
export function doorAddress(subnet: Subnet, used: ReadonlySet<string>): string | undefined {
  return DOOR_HOSTS.map((host) => `${subnet.prefix}.${host}`).find((address) => !used.has(address));
}

export function machineAddress(subnet: Subnet, role: MachineRole, index: number): string {
  const max = role === 'server' ? MAX_SERVER_INDEX : MAX_WORKER_INDEX;
  if (!Number.isInteger(index) || index < 0 || index > max) throw new RangeError(`${role} index ${index} is outside 0..${max}`);
  return `${subnet.prefix}.${(role === 'server' ? SERVER_FIRST : WORKER_FIRST) + index}`;
}

/** The pool kiab picks cluster networks from: 172.28.0.0/14 in /24 steps, clear of Docker's default 172.17-172.27 picks. */
export function* candidateSubnets(): Generator<string> {
  for (let second = 28; second <= 31; second += 1) {
    for (let third = 0; third <= 255; third += 1) yield `172.${second}.${third}.0/24`;
  }
}

/** The first candidate /24 that overlaps none of the subnets in use (Docker networks and host routes). */
export function pickFreeSubnet(inUse: readonly string[]): string | undefined {
  for (const candidate of candidateSubnets()) {
    if (!inUse.some((used) => cidrsOverlap(candidate, used))) return candidate;
  }
  return undefined;
}
