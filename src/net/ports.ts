import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { PortsSpec } from '../spec/schema.js';

/** Host-side ports of a cluster, all bound on 127.0.0.1 by the box. */
export interface HostPorts {
  api: number;
  http: number;
  https: number;
  registry: number;
}

export const PORT_NAMES = ['api', 'http', 'https', 'registry'] as const;
export type PortName = (typeof PORT_NAMES)[number];

/** The port inside the box that each host port reaches. */
export const BOX_PORT: Record<PortName, number> = { api: 6443, http: 80, https: 443, registry: 5000 };

export const NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;

export const LOOPBACK = '127.0.0.1';
/** Every address of the host, as a listen address. */
export const ANY_ADDRESS = '0.0.0.0';

/** The host address a cluster publishes its ports on. */
export function listenAddressOf(ports: PortsSpec): string {
  return ports.address ?? LOOPBACK;
}

/** Where the host itself reaches a port published on `listen`: loopback when it is published on every address. */
export function hostReach(listen: string): string {
  return listen === ANY_ADDRESS ? LOOPBACK : listen;
}

export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.');
}

/**
 * The host's addresses at which a port published on `listen` is reached from other machines: none on
 * loopback, the address itself, or every IPv4 address of the host (read here: the engine is this host's).
 */
export function exposedAddresses(listen: string): string[] {
  if (isLoopbackAddress(listen)) return [];
  if (listen !== ANY_ADDRESS) return [listen];
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => address.family === 'IPv4' && !address.internal)
    .map((address) => address.address);
}

/** Resolves when the port can be bound on loopback now, false when something holds it. */
export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Resolves when a UDP port can be bound on `host` now, false when something holds it. */
export function isUdpPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/** Asks the kernel for a free ephemeral port on loopback. */
export function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export type PortConflict = { name: PortName; port: number; reason: 'in-use' | 'claimed' | 'duplicate'; by?: string };

/**
 * Plans host ports: fixed ones from the spec are checked, the rest are picked free.
 * `claimed` holds ports other clusters own even while their box is stopped, so two clusters never share one.
 */
export async function planHostPorts(
  wanted: PortsSpec,
  claimed: ReadonlyMap<number, string>,
  probe: (port: number) => Promise<boolean> = isPortFree,
  pick: () => Promise<number> = freePort,
): Promise<{ ports: HostPorts } | { conflict: PortConflict }> {
  const chosen = new Map<PortName, number>();
  const used = new Set<number>();
  for (const name of PORT_NAMES) {
    const port = wanted[name];
    if (port === undefined) continue;
    if (used.has(port)) return { conflict: { name, port, reason: 'duplicate' } };
    const owner = claimed.get(port);
    if (owner !== undefined) return { conflict: { name, port, reason: 'claimed', by: owner } };
    if (!(await probe(port))) return { conflict: { name, port, reason: 'in-use' } };
    chosen.set(name, port);
    used.add(port);
  }
  for (const name of PORT_NAMES) {
    if (chosen.has(name)) continue;
    for (let attempt = 0; ; attempt += 1) {
      const port = await pick();
      if (!used.has(port) && !claimed.has(port)) {
        chosen.set(name, port);
        used.add(port);
        break;
      }
      if (attempt > 50) throw new Error('could not find a free host port on loopback');
    }
  }
  return { ports: Object.fromEntries(chosen) as unknown as HostPorts };
}
