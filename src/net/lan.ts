import { isIPv4 } from 'node:net';

/**
 * The box as a host on the user's LAN: one address of a LAN prefix, on a macvlan network whose parent is a
 * link of the engine's host. The engine needs the prefix and a gateway for the network; the box answers on
 * the one address, and no other address of the LAN is ever handed out (the network's range is that /32).
 */
export interface LanAddress {
  /** The box's address on the LAN, e.g. 192.168.1.240. */
  address: string;
  prefixLength: number;
  /** The LAN prefix in CIDR form, e.g. 192.168.1.0/24. */
  cidr: string;
  /** The LAN's router: the network's gateway (the first address of the prefix unless given). */
  gateway: string;
}

const toNumber = (address: string): number => address.split('.').reduce((total, octet) => total * 256 + Number(octet), 0) >>> 0;
const toAddress = (value: number): string => [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
const maskOf = (prefixLength: number): number => (prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0);

/** Longest prefix accepted: a /31 or /32 leaves no room for the box beside a gateway. */
export const MAX_LAN_PREFIX = 30;
export const MIN_LAN_PREFIX = 8;

/** Why ADDR/PREFIX cannot be the box's LAN address, or undefined when it can. */
export function lanAddressProblem(text: string): string | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!match || !isIPv4(match[1]!)) return 'must be an IPv4 address with its prefix length, such as 192.168.1.240/24';
  const prefixLength = Number(match[2]);
  if (prefixLength < MIN_LAN_PREFIX || prefixLength > MAX_LAN_PREFIX) return `must have a prefix length from /${MIN_LAN_PREFIX} to /${MAX_LAN_PREFIX}`;
  const host = toNumber(match[1]!) & ~maskOf(prefixLength);
  if (host === 0 || host === ~maskOf(prefixLength) >>> 0) return "is the prefix's network or broadcast address, which no host can take";
  return undefined;
}

/** The parts of an ADDR/PREFIX that lanAddressProblem accepted, with the gateway given or the prefix's first address. */
export function parseLanAddress(text: string, gateway?: string): LanAddress {
  const [address, length] = text.split('/') as [string, string];
  const prefixLength = Number(length);
  const network = (toNumber(address) & maskOf(prefixLength)) >>> 0;
  return { address, prefixLength, cidr: `${toAddress(network)}/${prefixLength}`, gateway: gateway ?? toAddress(network + 1) };
}

/** Whether `address` lies in the prefix of `lan`. */
export function inLanPrefix(lan: LanAddress, address: string): boolean {
  const mask = maskOf(lan.prefixLength);
  return (toNumber(address) & mask) >>> 0 === (toNumber(lan.address) & mask) >>> 0;
}
