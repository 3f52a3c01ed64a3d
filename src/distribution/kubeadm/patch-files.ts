import type { Provider } from '../../provider/types.js';
import type { MachineRef } from '../types.js';
import { KUBEADM_PATCHES_DIR, kubeadmPatches } from './config.js';

/**
 * kiab's patches of what kubeadm generates, where kubeadm reads them on a server: init, a control-plane join
 * and an upgrade (which so gives a server made by an older kiab the patches of this one).
 */
export async function writePatches(provider: Provider, server: MachineRef): Promise<void> {
  await provider.writeFiles(
    server.name,
    kubeadmPatches().map((patch) => ({ path: `${KUBEADM_PATCHES_DIR}/${patch.file}`, content: patch.content })),
  );
}
