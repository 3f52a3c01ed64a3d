import { isIPv4 } from 'node:net';

/* IPv4 ranges as numbers: checking a CIDR, carving /24s out of it, and overlap. */

interface Cidr {
  /** The first address as an unsigned 32-bit number. */
  base: number;
  bits: number;
}

function toNumber(address: string): number {
  return address.split('.').reduce((total, octet) => total * 256 + Number(octet), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** Why `text` is not an IPv4 range written from its first address (10.244.0.0/16), or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length > 0 || address === undefined || !isIPv4(address) || bits === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32)
    return 'must be an IPv4 range such as 10.244.0.0/16';
  const base = toNumber(address);
  const first = (base & maskOf(Number(bits))) >>> 0;
  if (first !== base) return `is not the start of a /${bits}: write ${toAddress(first)}/${bits}`;
  return undefined;
}

/** A range cidrProblem accepts; anything else throws (a caller's bug, not the user's input). */
function parseCidr(text: string): Cidr {
  const problem = cidrProblem(text);
  if (problem) throw new Error(`${text} ${problem}`);
  const [address, bits] = text.split('/') as [string, string];
  return { base: toNumber(address), bits: Number(bits) };
}

/** The `index`-th /24 of a range of /24 or wider (index 0 is the range's first /24). */
export function nthSlash24(range: string, index: number): string {
  const { base, bits } = parseCidr(range);
  if (index < 0 || index >= 2 ** (24 - bits)) throw new RangeError(`${range} has no /24 number ${index}`);
  return `${toAddress(base + index * 256)}/24`;
}

/** True when two IPv4 CIDRs (or addresses, read as /32) share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const [aAddress, aBits] = a.split('/') as [string, string | undefined];
  const [bAddress, bBits] = b.split('/') as [string, string | undefined];
  const mask = maskOf(Math.min(Number(aBits ?? 32), Number(bBits ?? 32)));
  return (toNumber(aAddress) & mask) >>> 0 === (toNumber(bAddress) & mask) >>> 0;
}
