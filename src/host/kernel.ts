import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, warn, type Finding } from './finding.js';

/** Whether the host has /dev/kmsg, which every machine is given (kubelet reads the kernel log from it). */
export async function hasKmsg(dev = '/dev'): Promise<boolean> {
  return (await stat(join(dev, 'kmsg')).catch(() => undefined))?.isCharacterDevice() ?? false;
}

export function kmsgFinding(present: boolean): Finding {
  if (present) return ok('kmsg', 'the host has /dev/kmsg, which each machine gets for its kubelet');
  return fail(
    'kmsg',
    'the host has no /dev/kmsg: the engine refuses to create machines, which are given it (kubelet reads the kernel log there)',
    'create it as root: `mknod -m 600 /dev/kmsg c 1 11`',
  );
}

export interface KernelFeatures {
  /** br_netfilter is loaded (or built in): bridged pod traffic passes through iptables, as Services need. */
  bridgeNetfilter: boolean;
  /** overlayfs is available: containerd's snapshotter in every machine uses it. */
  overlay: boolean;
}

export async function kernelFeatures(proc = '/proc'): Promise<KernelFeatures> {
  const bridge = await stat(join(proc, 'sys/net/bridge')).catch(() => undefined);
  const filesystems = await readFile(join(proc, 'filesystems'), 'utf8').catch(() => '');
  return { bridgeNetfilter: bridge?.isDirectory() ?? false, overlay: /\toverlay$/m.test(filesystems) };
}

/** Machines share the host's kernel: its modules cannot be loaded from inside one (modprobe fails there). */
export function kernelFindings(features: KernelFeatures): Finding[] {
  const persist = (module: string): string =>
    `as root: \`modprobe ${module}\`, and \`echo ${module} > /etc/modules-load.d/${module}.conf\` to keep it after a reboot`;
  return [
    features.bridgeNetfilter
      ? ok('br_netfilter', "br_netfilter is loaded: pod traffic on a machine's bridge goes through iptables, so Services between pods of one node work")
      : warn(
          'br_netfilter',
          'br_netfilter is not loaded: machines cannot load it themselves, and a pod reaching a Service backed by a pod on the same node gets no answer',
          persist('br_netfilter'),
        ),
    features.overlay
      ? ok('overlay', "overlayfs is available for containerd's snapshotter in every machine")
      : warn(
          'overlay',
          'overlayfs is not listed in /proc/filesystems: containerd in the machines needs it, and the kernel loads it on first use only if it is a module',
          persist('overlay'),
        ),
  ];
}
