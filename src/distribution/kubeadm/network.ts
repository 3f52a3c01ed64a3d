import { readPackageFile } from '../../package-files.js';
import type { MachineRef } from '../types.js';

/**
 * Pod networking that works offline with nothing but Debian's CNI plugins: each machine bridges its own
 * /24 of the pod range, and every machine routes the others' /24s to their (fixed) addresses. All
 * machines share one L2 network, so plain routes are the whole overlay.
 */
export const POD_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';

/** Same numbering as machine addresses: servers 10.244.0-39.0/24, workers 10.244.50-199.0/24. */
export function podSubnetOf(machine: Pick<MachineRef, 'role' | 'index'>): string {
  return `10.244.${machine.role === 'server' ? machine.index : 50 + machine.index}.0/24`;
}

export const CNI_CONFIG_PATH = '/etc/cni/net.d/10-kiab.conflist';
export const POD_ROUTES_PATH = '/etc/kiab/pod-routes';

export function cniConfig(machine: MachineRef): string {
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
          ipam: { type: 'host-local', ranges: [[{ subnet: podSubnetOf(machine) }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/** One line per other machine: its pod /24 and the address that reaches it. */
export function podRoutes(self: MachineRef, machines: readonly MachineRef[]): string {
  const lines = machines.filter((machine) => machine.name !== self.name).map((machine) => `${podSubnetOf(machine)} ${machine.ip}`);
  return `# Written by kiab: POD_SUBNET VIA\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

/**
 * Applies /etc/kiab/pod-routes: replaces kiab's routes, masquerades pod traffic leaving the pod range, and refuses
 * cluster-IP traffic kube-proxy did not translate.
 * The script spells out POD_CIDR, SERVICE_CIDR and POD_ROUTES_PATH; a unit test keeps them in step with the constants.
 */
export const POD_NETWORK_SCRIPT = readPackageFile('src/distribution/kubeadm/files/kiab-pod-network.sh');
