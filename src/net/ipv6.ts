/*
 * A cluster's IPv6 addresses, for clusters whose networking.ipFamily is ipv6 or dual. Each follows from an IPv4
 * address kiab already fixed, so certificates, snapshots and routes stay as stable as the IPv4 ones:
 * - the cluster network's IPv6 /64 from its IPv4 /24: fd6b:6961:62 ("kiab" in ASCII, under the unique-local
 *   fd00::/8), then the /24's three octets in hex: 172.28.3.0/24 gives fd6b:6961:62ac:1c03::/64;
 * - a machine's IPv6 address from its IPv4 one: the last octet's decimal digits as the last group, so
 *   172.28.3.10 is fd6b:6961:62ac:1c03::10 and reads as its twin.
 */

const hex2 = (octet: string): string => Number(octet).toString(16).padStart(2, '0');

function prefixOf(ipv4: string): string {
  const octets = ipv4.split('.');
  if (octets.length !== 4) throw new Error(`not an IPv4 address: ${ipv4}`);
  return `fd6b:6961:62${hex2(octets[0]!)}:${hex2(octets[1]!)}${hex2(octets[2]!)}`;
}

/**
 * An IPv6 address in its one canonical text (RFC 5952: lower case, no leading zeros, the longest run of zero
 * groups as ::), as the kubelet and the engine write it: the form two addresses are compared in.
 */
export function canonicalIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** The IPv6 /64 of a cluster network whose IPv4 range is the /24 `cidr`. */
export function ipv6NetworkOf(cidr: string): string {
  return `${canonicalIpv6(`${prefixOf(cidr.split('/')[0]!)}::`)}/64`;
}

/** The IPv6 address of the machine (or box, or gateway) at IPv4 address `ipv4` on a dual-stack cluster network. */
export function ipv6Of(ipv4: string): string {
  return canonicalIpv6(`${prefixOf(ipv4)}::${Number(ipv4.split('.')[3])}`);
}

/** The `index`-th /64 of an IPv6 /56 written as `xxxx:xxxx:xxxx::/56` (kind's pod range fd00:10:244::/56 is one). */
export function nthSlash64(range: string, index: number): string {
  const match = /^([0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4})::\/56$/i.exec(range);
  if (!match) throw new Error(`not an IPv6 /56 ending in :: : ${range}`);
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new RangeError(`${range} has no /64 number ${index}`);
  return `${canonicalIpv6(`${match[1]}:${index.toString(16)}::`)}/64`;
}
