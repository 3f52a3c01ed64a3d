import { z } from 'zod';
import { cidrProblem, cidrsOverlap } from '../net/cidr.js';

/** How kube-proxy programs Services: iptables (the default), nftables, ipvs (needs IPVS in the host's kernel), or none (a replacement the user installs). */
export const KUBE_PROXY_MODES = ['iptables', 'nftables', 'ipvs', 'none'] as const;
export type KubeProxyMode = (typeof KUBE_PROXY_MODES)[number];

/** The pod network kiab installs: its own (bridge and host-local, see docs/pod-network.md), or none for one the user installs. */
const CNIS = ['kiab', 'none'] as const;

/** kubeadm's ranges when the spec names none (kind's too, so manifests written for kind find the same addresses). */
export const DEFAULT_POD_SUBNET = '10.244.0.0/16';
export const DEFAULT_SERVICE_SUBNET = '10.96.0.0/16';

/** The IP families a cluster's nodes, pods and Services use, by kind's names: dual lists IPv4 first. */
export const IP_FAMILIES = ['ipv4', 'ipv6', 'dual'] as const;
export type IpFamily = (typeof IP_FAMILIES)[number];
/** kind's IPv6 ranges, fixed: each machine gets a /64 of the pod range, numbered as its /24 of the IPv4 one. */
export const IPV6_POD_SUBNET = 'fd00:10:244::/56';
export const IPV6_SERVICE_SUBNET = 'fd00:10:96::/112';

/**
 * Every machine gets a /24 of the pod range numbered like its address (servers 0-39, workers 50-199), so
 * the range must hold 200 of them: a /16 or wider.
 */
const MAX_POD_PREFIX = 16;
/** The API server refuses a service range wider than /12; a /28 still holds the API's (.1) and DNS's (.10) addresses. */
const SERVICE_PREFIXES = { min: 12, max: 28 } as const;

function rangeSchema(example: string, min: number, max: number, why: string): z.ZodType<string> {
  return z.string().superRefine((text, context) => {
    const problem = cidrProblem(text);
    if (problem) return void context.addIssue({ code: 'custom', message: problem.replace('10.244.0.0/16', example) });
    const bits = Number(text.split('/')[1]);
    if (bits < min || bits > max) context.addIssue({ code: 'custom', message: `must be a /${min} to a /${max} (${why}), not a /${bits}` });
  });
}

export const networkingSchema = z
  .object({
    kubeProxyMode: z
      .enum(KUBE_PROXY_MODES, { error: (issue) => `"${String(issue.input)}" is not a kube-proxy mode; choose from ${KUBE_PROXY_MODES.join(', ')}` })
      .default('iptables')
      .describe(
        'How kube-proxy programs Services (kubeadm): iptables (the default), nftables, ipvs (refused on a kernel without IPVS), or none (no kube-proxy: for a replacement you install yourself)',
      ),
    cni: z
      .enum(CNIS, { error: (issue) => `"${String(issue.input)}" is not a pod network kiab knows; choose kiab (the default) or none` })
      .default('kiab')
      .describe(
        "The pod network (kubeadm): kiab (its own bridge network with NetworkPolicy, the default) or none (you install a CNI; up returns once the nodes are registered, and says each node's podCIDR)",
      ),
    ipFamily: z
      .enum(IP_FAMILIES, { error: (issue) => `"${String(issue.input)}" is not an IP family; choose from ${IP_FAMILIES.join(', ')}` })
      .default('ipv4')
      .describe(
        `The IP family of nodes, pods and Services (kubeadm): ipv4 (the default), ipv6, or dual (both, IPv4 first). IPv6 pods take ${IPV6_POD_SUBNET} (a /64 each machine) and Services ${IPV6_SERVICE_SUBNET}; the machines get IPv6 addresses on the cluster network beside their IPv4 ones`,
      ),
    podSubnet: rangeSchema('10.244.0.0/16', 8, MAX_POD_PREFIX, 'each machine takes a /24 of it')
      .optional()
      .describe(
        `The pods' addresses (kubeadm), an IPv4 /8 to /16; each machine gets a /24 of it, its node's podCIDR (default: ${DEFAULT_POD_SUBNET}). Refused when it overlaps the service range, an engine network or a route of the host`,
      ),
    serviceSubnet: rangeSchema('10.96.0.0/16', SERVICE_PREFIXES.min, SERVICE_PREFIXES.max, "the API server's limits")
      .optional()
      .describe(
        `The Services' cluster IPs (kubeadm), an IPv4 /12 to /28; the DNS Service takes its 10th address (default: ${DEFAULT_SERVICE_SUBNET}). Refused when it overlaps the pod range, an engine network or a route of the host`,
      ),
  })
  .strict();

export type NetworkingSpec = z.output<typeof networkingSchema>;

/** A range the spec names and the field that names it, for messages. */
export interface NamedRange {
  field: 'networking.podSubnet' | 'networking.serviceSubnet';
  cidr: string;
}

/** The pod and service ranges a kubeadm cluster of this spec uses, the defaults where it names none. */
export function clusterRanges(networking: Pick<NetworkingSpec, 'podSubnet' | 'serviceSubnet'>): { pods: string; services: string } {
  return { pods: networking.podSubnet ?? DEFAULT_POD_SUBNET, services: networking.serviceSubnet ?? DEFAULT_SERVICE_SUBNET };
}

/** Whether a cluster's nodes, pods and Services have IPv4 and IPv6 addresses (a spec of before ipFamily is IPv4). */
export function familiesOf(networking: { ipFamily?: IpFamily | undefined }): { ipv4: boolean; ipv6: boolean } {
  const family = networking.ipFamily ?? 'ipv4';
  return { ipv4: family !== 'ipv6', ipv6: family !== 'ipv4' };
}

/**
 * The pod and service ranges of each of the cluster's families, IPv4 first when dual: the order kubeadm's
 * ranges, kube-proxy's clusterCIDR and a node's addresses take (the first family is the cluster's primary).
 */
export function familyRanges(networking: Pick<NetworkingSpec, 'podSubnet' | 'serviceSubnet'> & { ipFamily?: IpFamily | undefined }): {
  pods: string[];
  services: string[];
} {
  const { ipv4, ipv6 } = familiesOf(networking);
  const v4 = clusterRanges(networking);
  return {
    pods: [...(ipv4 ? [v4.pods] : []), ...(ipv6 ? [IPV6_POD_SUBNET] : [])],
    services: [...(ipv4 ? [v4.services] : []), ...(ipv6 ? [IPV6_SERVICE_SUBNET] : [])],
  };
}

/** The ranges the user named (a default is never refused for what the host holds: clusters made before these fields had them too). */
export function givenRanges(networking: Pick<NetworkingSpec, 'podSubnet' | 'serviceSubnet'>): NamedRange[] {
  return [
    ...(networking.podSubnet ? [{ field: 'networking.podSubnet' as const, cidr: networking.podSubnet }] : []),
    ...(networking.serviceSubnet ? [{ field: 'networking.serviceSubnet' as const, cidr: networking.serviceSubnet }] : []),
  ];
}

/**
 * What the spec alone says against its ranges: pods and Services sharing addresses, or either one taking the
 * cluster network's (network.subnet). Each problem with the path of the field to change.
 */
export function rangeConflicts(
  networking: Pick<NetworkingSpec, 'podSubnet' | 'serviceSubnet'>,
  networkSubnet: string | undefined,
): Array<{ path: string[]; message: string }> {
  const { pods, services } = clusterRanges(networking);
  const problems: Array<{ path: string[]; message: string }> = [];
  if (cidrsOverlap(pods, services))
    problems.push(
      networking.serviceSubnet
        ? { path: ['networking', 'serviceSubnet'], message: `${services} overlaps the pod range ${pods}` }
        : { path: ['networking', 'podSubnet'], message: `${pods} overlaps the service range ${services}` },
    );
  if (networkSubnet)
    for (const [field, cidr, what] of [
      ['podSubnet', pods, 'pod'],
      ['serviceSubnet', services, 'service'],
    ] as const) {
      if (!cidrsOverlap(cidr, networkSubnet)) continue;
      problems.push(
        networking[field]
          ? { path: ['networking', field], message: `${cidr} overlaps the cluster network ${networkSubnet} (network.subnet)` }
          : { path: ['network', 'subnet'], message: `${networkSubnet} overlaps the default ${what} range ${cidr}: choose another, or set networking.${field}` },
      );
    }
  return problems;
}
