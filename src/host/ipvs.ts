import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fail, ok, warn, type Finding } from './finding.js';

/** What the host's kernel says of IPVS, which kube-proxy's ipvs mode programs Services with. */
export interface IpvsSupport {
  /** /proc/net/ip_vs exists: IPVS is built in or its module is loaded. */
  loaded: boolean;
  /** CONFIG_IP_VS in the kernel's configuration (/proc/config.gz), when the kernel publishes it. */
  config: 'y' | 'm' | 'unset' | 'unknown';
}

export async function ipvsSupport(proc = '/proc'): Promise<IpvsSupport> {
  const loaded = (await stat(join(proc, 'net/ip_vs')).catch(() => undefined)) !== undefined;
  const packed = await readFile(join(proc, 'config.gz')).catch(() => undefined);
  let config: IpvsSupport['config'] = 'unknown';
  if (packed) {
    const text = gunzipSync(packed).toString();
    const value = /^CONFIG_IP_VS=([ym])$/m.exec(text)?.[1] as 'y' | 'm' | undefined;
    config = value ?? (/^# CONFIG_IP_VS is not set$/m.test(text) ? 'unset' : 'unknown');
  }
  return { loaded, config };
}

/**
 * Whether kube-proxy's ipvs mode can run here. Machines share the host's kernel and cannot load modules, so IPVS
 * must be there already. `asked`: the cluster being made asks for ipvs, and its absence then stops `up`.
 */
export function ipvsFinding(support: IpvsSupport, asked: boolean): Finding {
  if (support.loaded) return ok('ipvs', "the kernel has IPVS: kube-proxy's ipvs mode (networking.kubeProxyMode: ipvs) can run");
  const other = 'choose networking.kubeProxyMode: iptables (the default) or nftables';
  const reason =
    support.config === 'unset'
      ? 'the kernel is built without IPVS (CONFIG_IP_VS is not set)'
      : support.config === 'm'
        ? 'IPVS is a module the kernel has not loaded (no /proc/net/ip_vs), and machines cannot load modules'
        : 'the kernel has no IPVS loaded (no /proc/net/ip_vs), and machines cannot load modules';
  const message = `${reason}: kube-proxy's ipvs mode cannot run here, so networking.kubeProxyMode: ipvs is refused`;
  const fix = support.config === 'unset' ? other : `as root: \`modprobe ip_vs\` (and ip_vs_rr, ip_vs_wrr, ip_vs_sh), or ${other}`;
  return asked ? fail('ipvs', message, fix) : warn('ipvs', message, fix);
}
