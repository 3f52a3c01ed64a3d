import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, warn, type Finding } from './finding.js';

/**
 * Whether the host's kernel runs IPv6: a cluster of networking.ipFamily ipv6 or dual gets an IPv6 range on its
 * engine network, which the engine cannot make where the kernel has IPv6 off. Undefined: the kernel has no IPv6 at all.
 */
export async function ipv6Enabled(proc = '/proc'): Promise<boolean | undefined> {
  const value = await readFile(join(proc, 'sys/net/ipv6/conf/all/disable_ipv6'), 'utf8').catch(() => undefined);
  return value === undefined ? undefined : value.trim() === '0';
}

export function ipv6Finding(enabled: boolean | undefined): Finding {
  const families = 'clusters of networking.ipFamily ipv6 or dual';
  if (enabled) return ok('ipv6', `the kernel runs IPv6: ${families} can run`);
  if (enabled === undefined)
    return warn(
      'ipv6',
      `the kernel is built without IPv6: ${families} cannot run, IPv4 ones (the default) can`,
      'a kernel with CONFIG_IPV6, or networking.ipFamily: ipv4',
    );
  return warn(
    'ipv6',
    `IPv6 is off in the kernel (net.ipv6.conf.all.disable_ipv6 = 1): ${families} cannot run, IPv4 ones (the default) can`,
    'as root: `sysctl -w net.ipv6.conf.all.disable_ipv6=0` (and in /etc/sysctl.d to keep it), or networking.ipFamily: ipv4',
  );
}
