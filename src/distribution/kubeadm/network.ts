import { nthSlash24 } from '../../net/cidr.js';
import { ipv6Of, nthSlash64 } from '../../net/ipv6.js';
import { readPackageFile } from '../../package-files.js';
import { clusterRanges, familiesOf, familyRanges, IPV6_POD_SUBNET, type NetworkingSpec } from '../../spec/networking.js';
import type { MachineRef } from '../types.js';

/**
 * Pod networking that works offline with nothing but Debian's CNI plugins: each machine bridges its own
 * /24 of the pod range, and every machine routes the others' /24s to their (fixed) addresses. All
 * machines share one L2 network, so plain routes are the whole overlay.
 */
export type PodNetworking = Pick<NetworkingSpec, 'podSubnet' | 'serviceSubnet'> & { cni?: NetworkingSpec['cni']; ipFamily?: NetworkingSpec['ipFamily'] };

/**
 * Same numbering as machine addresses, counted in /24s from the start of the pod range: servers the 0th to
 * 39th (10.244.0-39.0/24 by default), workers the 50th to 199th (10.244.50-199.0/24). IPv6 pods get the /64 of
 * the same number (fd00:10:244:32::/64 for the first worker).
 */
export function podSubnetsOf(networking: PodNetworking, machine: Pick<MachineRef, 'role' | 'index'>): string[] {
  const number = machine.role === 'server' ? machine.index : 50 + machine.index;
  const { ipv4, ipv6 } = familiesOf(networking);
  return [...(ipv4 ? [nthSlash24(clusterRanges(networking).pods, number)] : []), ...(ipv6 ? [nthSlash64(IPV6_POD_SUBNET, number)] : [])];
}

/** A machine's addresses in the cluster's families, in their order: what its kubelet takes as --node-ip. */
export function nodeAddresses(networking: PodNetworking, machine: Pick<MachineRef, 'ip'>): string[] {
  const { ipv4, ipv6 } = familiesOf(networking);
  return [...(ipv4 ? [machine.ip] : []), ...(ipv6 ? [ipv6Of(machine.ip)] : [])];
}

export const CNI_CONFIG_PATH = '/etc/cni/net.d/10-kiab.conflist';
export const POD_ROUTES_PATH = '/etc/kiab/pod-routes';
/**
 * Where the pod network script says how pod connections reach the policy controller: `nftables` (the kernel has
 * nftables' queue statement) or `xtables` (kiab's NFQUEUE fallback).
 */
export const POLICY_QUEUE_PATH = '/run/kiab/policy-queue';
/** The ranges the pod network script works on, as shell assignments it sources. */
export const POD_NETWORK_ENV_PATH = '/etc/kiab/pod-network.env';

export function podNetworkEnvironment(networking: PodNetworking): string {
  const { pods, services } = familyRanges(networking);
  const v6 = (ranges: string[]): string => ranges.find((range) => range.includes(':')) ?? '';
  const v4 = (ranges: string[]): string => ranges.find((range) => !range.includes(':')) ?? '';
  return [
    `POD_CIDR=${v4(pods)}`,
    `SERVICE_CIDR=${v4(services)}`,
    `POD_CIDR6=${v6(pods)}`,
    `SERVICE_CIDR6=${v6(services)}`,
    `CNI=${networking.cni ?? 'kiab'}`,
    '',
  ].join('\n');
}

export function cniConfig(networking: PodNetworking, machine: MachineRef): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'kiab',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // Masquerading is done per machine for traffic leaving the pod range only, so pod-to-pod keeps source IPs.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: podSubnetsOf(networking, machine).map((subnet) => [{ subnet }]),
            routes: podSubnetsOf(networking, machine).map((subnet) => ({ dst: subnet.includes(':') ? '::/0' : '0.0.0.0/0' })),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * Each machine's /24 written on its Node (spec.podCIDR), as a server-side apply of the Nodes kubeadm made: where
 * a CNI the user installs (networking.cni: none) looks for the range to give its pods, as flannel or kindnet do.
 * kiab numbers the ranges itself (the controller manager's allocation would follow the order nodes register).
 */
export function podCidrNodes(networking: PodNetworking, machines: readonly MachineRef[]): string {
  const items = machines.map((machine) => {
    const cidrs = podSubnetsOf(networking, machine);
    return { apiVersion: 'v1', kind: 'Node', metadata: { name: machine.name }, spec: { podCIDR: cidrs[0], podCIDRs: cidrs } };
  });
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** One line per other machine and family: its pod /24 (or /64) and the address of that family that reaches it. */
export function podRoutes(networking: PodNetworking, self: MachineRef, machines: readonly MachineRef[]): string {
  const lines = machines
    .filter((machine) => machine.name !== self.name)
    .flatMap((machine) => podSubnetsOf(networking, machine).map((subnet) => `${subnet} ${subnet.includes(':') ? ipv6Of(machine.ip) : machine.ip}`));
  return `# Written by kiab: POD_SUBNET VIA\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

/**
 * Applies /etc/kiab/pod-routes: replaces kiab's routes, masquerades pod traffic leaving the pod range, and refuses
 * cluster-IP traffic kube-proxy did not translate. The ranges come from POD_NETWORK_ENV_PATH.
 * The script spells out POD_NETWORK_ENV_PATH and POD_ROUTES_PATH; a unit test keeps them in step with the constants.
 */
export const POD_NETWORK_SCRIPT = readPackageFile('src/distribution/kubeadm/files/kiab-pod-network.sh');
