import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../provider/run.js';
import type { DistributionContext, MachineRef } from '../types.js';

/*
 * A release's machine binaries (kubelet, kubeadm, kubectl, kube-proxy) put into a machine made with another
 * release's: by an upgrade, and by a join of a worker whose node entry names its own version. Each is copied
 * beside the running one first, then renamed over it, which a running binary does not mind; both steps can
 * run again after an interruption.
 */

/** Where a release's binary waits in a machine until it replaces the running one in one rename. */
const stagedBinary = (binary: string, version: string): string => `/usr/bin/${binary}.kiab-${version}`;

/** Copies a release's binaries (from its asset folder `dir`) into the machine beside the running ones, streamed. */
export async function stageBinaries(
  context: DistributionContext,
  machine: MachineRef,
  dir: string,
  version: string,
  binaries: readonly string[],
): Promise<void> {
  for (const binary of binaries) {
    const staged = stagedBinary(binary, version);
    await run(context.provider, machine.name, ['cp', '/dev/stdin', staged], {
      stdin: createReadStream(join(dir, 'bin', binary), { highWaterMark: 4 << 20 }),
      what: `copying ${binary} ${version} into ${machine.name}`,
    });
    await run(context.provider, machine.name, ['chmod', '0755', staged]);
  }
}

/** Puts staged binaries in place: a rename each. */
export async function swapBinaries(context: DistributionContext, machine: MachineRef, version: string, binaries: readonly string[]): Promise<void> {
  for (const binary of binaries) await run(context.provider, machine.name, ['mv', '-f', stagedBinary(binary, version), `/usr/bin/${binary}`]);
}
