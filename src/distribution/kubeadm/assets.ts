import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostArch, verifiedAssets, type AssetManifest } from '../../assets/cache.js';
import { imageArchiveLines } from '../../assets/images.js';
import { KiabError } from '../../errors.js';
import type { MachineRole } from '../../labels.js';
import type { ClusterSpec } from '../../spec/schema.js';
import type { NodeImagePlan } from '../types.js';
import { POD_NETWORK_SCRIPT } from './network.js';
import { resolveRelease } from './releases.js';
import { DNS_RELAY_SERVICE, KUBE_PROXY_SERVICE, KUBELET_KUBEADM_DROPIN, KUBELET_SERVICE, KUBERNETES_SYSCTL, POD_NETWORK_SERVICE } from './units.js';

export { DEFAULT_KUBEADM_VERSION } from './releases.js';

/** Binaries that run on the machines themselves (the control plane runs from images). */
export const MACHINE_BINARIES = ['kubelet', 'kubeadm', 'kubectl', 'kube-proxy'] as const;

/** Images every machine needs; servers get every image of the set. */
const EVERY_MACHINE_IMAGES = ['pause', 'coredns'];

/** The image archives (relative to the set's folder) a machine of `role` imports, with the reference each holds. */
export function roleImages(manifest: AssetManifest, role: MachineRole): Array<{ file: string; ref: string }> {
  return Object.entries(manifest.images)
    .filter(([file]) => role === 'server' || EVERY_MACHINE_IMAGES.some((name) => file === `images/${name}.tar`))
    .map(([file, ref]) => ({ file, ref }));
}

/** Changes when the images a role's machines import do (the manifest holds each archive's checksum). */
export function roleImagesDigest(manifest: AssetManifest, role: MachineRole): string {
  const images = roleImages(manifest, role).sort((a, b) => a.file.localeCompare(b.file));
  return createHash('sha256').update(imageArchiveLines(manifest, images)).digest('hex');
}

export function kubeadmVersion(spec: ClusterSpec): string {
  return resolveRelease(spec.kubernetesVersion).version;
}

export async function kubeadmAssets(spec: ClusterSpec): Promise<{ dir: string; manifest: AssetManifest }> {
  const version = kubeadmVersion(spec);
  const found = await verifiedAssets({ distribution: 'kubeadm', version, arch: hostArch() });
  if (!found) {
    throw new KiabError(`no kubeadm assets for Kubernetes ${version} in the cache`, {
      hint: `build them from source with \`kiab assets build --k8s kubeadm --k8s-version ${version}\` (needs Go), or copy them in with \`kiab assets import\`; \`--k8s none\` gives bare machines`,
    });
  }
  return found;
}

const STATIC_FILES: Array<{ path: string; content: string; mode?: number }> = [
  { path: 'kubelet.service', content: KUBELET_SERVICE },
  { path: '10-kubeadm.conf', content: KUBELET_KUBEADM_DROPIN },
  { path: 'kube-proxy.service', content: KUBE_PROXY_SERVICE },
  { path: 'kiab-pod-network.service', content: POD_NETWORK_SERVICE },
  { path: 'kiab-dns-relay.service', content: DNS_RELAY_SERVICE },
  { path: 'kiab-pod-network', content: POD_NETWORK_SCRIPT, mode: 0o755 },
  { path: '90-kiab-kubernetes.conf', content: KUBERNETES_SYSCTL },
];

/**
 * The node image's recipe. containerd runs pod sandboxes from the pause image its configuration names, and
 * releases name different ones: the image's configuration names this release's (imported, never pulled).
 */
const dockerfile = (pauseImage: string): string => `ARG BASE
FROM \${BASE}
COPY ${MACHINE_BINARIES.join(' ')} /usr/bin/
COPY kubelet.service kube-proxy.service kiab-pod-network.service kiab-dns-relay.service /etc/systemd/system/
COPY 10-kubeadm.conf /etc/systemd/system/kubelet.service.d/10-kubeadm.conf
COPY kiab-pod-network /usr/local/bin/kiab-pod-network
COPY 90-kiab-kubernetes.conf /etc/sysctl.d/90-kiab-kubernetes.conf
RUN mkdir -p /etc/kubernetes/manifests /etc/cni/net.d /etc/kiab /var/lib/kubelet \\
 && systemctl enable kubelet.service kiab-pod-network.service kiab-dns-relay.service \\
 && sed -i 's#^\\( *sandbox_image = \\).*#\\1"${pauseImage}"#' /etc/containerd/config.toml
`;

/**
 * The kubeadm node image: kiab's node image with kubelet, kubeadm, kubectl, kube-proxy and their units baked
 * in, so every machine shares one copy of the binaries instead of receiving its own. Its tag follows from
 * the base image and the binaries' checksums, so a rebuilt binary yields a new image.
 */
export function kubeadmNodeImage(version: string, baseNodeImage: string, dir: string, manifest: AssetManifest): NodeImagePlan {
  const pause = Object.values(manifest.images).find((ref) => ref.includes('/pause:'));
  if (!pause)
    throw new KiabError(`the kubeadm ${version} assets hold no pause image`, {
      hint: `build them again with \`kiab assets build --k8s kubeadm --k8s-version ${version} --force\``,
    });
  const recipe = dockerfile(pause);
  const hash = createHash('sha256').update(baseNodeImage).update(recipe);
  for (const file of STATIC_FILES) hash.update(file.path).update(file.content);
  for (const binary of MACHINE_BINARIES) hash.update(manifest.files[`bin/${binary}`]?.sha256 ?? binary);
  return {
    tag: `kiab/node-kubeadm:${version}-${hash.digest('hex').slice(0, 12)}`,
    files: async () => [
      { path: 'Dockerfile', content: recipe },
      ...STATIC_FILES,
      ...(await Promise.all(MACHINE_BINARIES.map(async (binary) => ({ path: binary, content: await readFile(join(dir, 'bin', binary)), mode: 0o755 })))),
    ],
  };
}
