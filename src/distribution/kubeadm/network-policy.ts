import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addonAssets, imageFile, NETWORK_POLICY_API_FILES } from '../../addons/assets.js';
import { COMPONENTS, NETWORK_POLICY_CONTROLLER, type NetworkPolicyOptions } from '../../addons/index.js';
import { KiabError } from '../../errors.js';

/** The policy controller's image archive in the verified addon set, where the pod network takes it from. */
export interface NetworkPolicyImage {
  dir: string;
  file: string;
  ref: string;
  sha256: string;
}

/**
 * The pod network enforces NetworkPolicy with sigs.k8s.io/kube-network-policies, whose image travels in the addon
 * set (built from its Go module or pulled with the other addons' images). A cluster made without the addons still
 * runs it: a missing set is refused before anything is created, naming the ways to make it.
 */
export async function networkPolicyImage(): Promise<NetworkPolicyImage> {
  const set = await addonAssets().catch((error: unknown) => {
    throw new KiabError(`the pod network's policy controller (${NETWORK_POLICY_CONTROLLER}) is not in the cache`, {
      hint: 'build it with the addons from their Go modules with `kiab assets build --k8s kubeadm` (needs Go), pull it with `kiab assets pull --k8s kubeadm`, or import a set made with `kiab assets export --addons`',
      cause: error,
    });
  });
  const file = imageFile(NETWORK_POLICY_CONTROLLER);
  const sha256 = set.manifest.files[file]?.sha256;
  if (!sha256) throw new KiabError(`the addon set in ${set.dir} holds no ${file}`);
  return { dir: set.dir, file, ref: COMPONENTS[NETWORK_POLICY_CONTROLLER].image, sha256 };
}

/**
 * The definitions of the administrator's policies the controller serves, from the verified addon set:
 * BaselineAdminNetworkPolicy's always, AdminNetworkPolicy's when it serves those too (see NetworkPolicyOptions).
 */
export async function networkPolicyDefinitions(options: NetworkPolicyOptions): Promise<string[]> {
  const { dir } = await networkPolicyImage();
  const served = NETWORK_POLICY_API_FILES.filter((file) => options.adminNetworkPolicy || file.endsWith('_baselineadminnetworkpolicies.yaml'));
  return Promise.all(served.map((file) => readFile(join(dir, file), 'utf8')));
}
