import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One IPv4 route of the host: where it leads and the link it leaves by. */
export interface HostRoute {
  cidr: string;
  link: string;
}

/** /proc/net/route writes addresses as 8 hex digits in the kernel's (little-endian) byte order. */
function hexAddress(hex: string): number[] {
  return [0, 2, 4, 6].map((at) => parseInt(hex.slice(at, at + 2), 16)).reverse();
}

function prefixLength(mask: number[]): number {
  return mask.reduce((bits, octet) => bits + octet.toString(2).replace(/0/g, '').length, 0);
}

/** The routes of /proc/net/route's text, but the default route (every range overlaps it, and traffic to no other route takes it anyway). */
export function parseRoutes(text: string): HostRoute[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 8)
    .map(([link, destination, , , , , , mask]) => ({ link: link!, bits: prefixLength(hexAddress(mask!)), address: hexAddress(destination!).join('.') }))
    .filter((route) => route.bits > 0)
    .map((route) => ({ cidr: `${route.address}/${route.bits}`, link: route.link }));
}

/** The IPv4 routes of the host kiab runs on (its main table), or none where the kernel does not publish them. */
export async function hostRoutes(proc = '/proc'): Promise<HostRoute[]> {
  const text = await readFile(join(proc, 'net/route'), 'utf8').catch(() => '');
  return parseRoutes(text);
}
