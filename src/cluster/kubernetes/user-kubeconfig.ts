import { parse } from 'yaml';
import type { Distribution, DistributionContext } from '../../distribution/index.js';
import { KiabError, UsageError } from '../../errors.js';
import { mergeKubeconfig, mergeUserKubeconfig, singleKubeconfig } from '../../kubeconfig/index.js';
import { BOX_PORT, hostReach, LOOPBACK, type HostPorts } from '../../net/ports.js';
import type { ClusterNames } from '../../names.js';

/**
 * The published port as the host reaches it, the box's address, the box's address on the LAN (port 6443, for
 * other hosts of the LAN), or the published port at a name or address of the host's.
 */
export type ApiAddress = 'localhost' | 'box' | 'lan' | { server: string };

export interface KubeconfigOptions {
  /** Where to merge it; undefined leaves the user's kubeconfig alone. */
  path?: string;
  switchContext: boolean;
  apiAddress: ApiAddress;
}

interface KubeconfigDocument {
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: Record<string, unknown> }>;
}

/**
 * Turns the admin kubeconfig of the first server into the user's: server URL on the published loopback port
 * (or the box address), and every name kiab-NAME so that merging never clobbers another cluster's entries.
 */
export function userKubeconfig(adminKubeconfig: string, names: ClusterNames, server: string): string {
  const admin = parse(adminKubeconfig) as KubeconfigDocument;
  const cluster = admin.clusters?.[0]?.cluster;
  const user = admin.users?.[0]?.user;
  if (!cluster || !user) throw new KiabError("the cluster's admin kubeconfig has no cluster or user entry");
  return singleKubeconfig(names.kubeContext, { ...cluster, server }, user);
}

export function apiServerUrl(ports: HostPorts, boxIp: string, address: ApiAddress, listen = LOOPBACK, lanIp?: string): string {
  if (address === 'box') return `https://${boxIp}:${BOX_PORT.api}`;
  if (address === 'lan') {
    if (!lanIp)
      throw new UsageError('--api-address lan: the cluster has no LAN address', 'make it with `kiab up --lan-parent IFACE --lan-address ADDR/PREFIX`');
    return `https://${lanIp}:${BOX_PORT.api}`;
  }
  return `https://${address === 'localhost' ? hostReach(listen) : address.server}:${ports.api}`;
}

export async function readUserKubeconfig(distribution: Distribution, context: DistributionContext, names: ClusterNames, server: string): Promise<string> {
  const admin = await distribution.adminKubeconfig(context);
  if (!admin) throw new KiabError(`cluster ${names.cluster} has no kubeconfig yet`, { hint: `run \`kiab up ${names.cluster}\` to finish it` });
  return userKubeconfig(admin, names, server);
}

export async function writeUserKubeconfig(kubeconfig: string, options: KubeconfigOptions): Promise<string> {
  const document = parse(kubeconfig) as never;
  if (options.path === undefined) return mergeUserKubeconfig(document, { switchContext: options.switchContext });
  await mergeKubeconfig(options.path, document, { switchContext: options.switchContext });
  return options.path;
}
