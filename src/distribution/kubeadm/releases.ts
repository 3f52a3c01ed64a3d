import { UsageError } from '../../errors.js';

/**
 * One Kubernetes release kiab builds, pulls, installs, tests and upgrades to, with what its kubeadm runs beside
 * it. Each row has module files under kubebuild/releases/VERSION (kubebuild/gen-release.sh writes them and
 * reads etcd's and CoreDNS's versions from the release's own kubeadm constants; a unit test holds the two
 * together). Adding a release is one row here plus those files.
 */
export interface KubernetesRelease {
  version: string;
  /** kubeadm's DefaultEtcdVersion: the etcd image tag it runs, and the etcd module build.sh compiles. */
  etcd: string;
  /** kubeadm's CoreDNSVersion. */
  coredns: string;
  /** kubeadm's PauseVersion (kiab's own pause binary is built under this tag). */
  pause: string;
  /** The kubeadm configuration API kiab writes (the release's preferred version). */
  kubeadmApi: string;
  /**
   * Whether the kubelet refuses a host with cgroup v1 controllers unless `failCgroupV1: false` (1.35 on);
   * kiab always writes the switch where the kubelet knows it, so such hosts keep working.
   */
  refusesCgroupV1ByDefault: boolean;
  /**
   * The test images its conformance suite runs that kiab makes, under the tags the suite asks for (its
   * test/utils/image/manifest.go; kubebuild/list-test-images.sh writes them to releases/VERSION/test-images.txt).
   */
  testImages: readonly string[];
}

const E2E = 'registry.k8s.io/e2e-test-images';

/** Newest first: the first row is the default. */
export const KUBERNETES_RELEASES: readonly KubernetesRelease[] = [
  {
    version: 'v1.37.2',
    etcd: '3.7.0-0',
    coredns: 'v1.14.6',
    pause: '3.10.2',
    kubeadmApi: 'kubeadm.k8s.io/v1beta4',
    refusesCgroupV1ByDefault: true,
    testImages: [
      `${E2E}/agnhost:2.55`,
      `${E2E}/agnhost:2.66.1`,
      `${E2E}/busybox:1.37.0-2`,
      `${E2E}/glibc-dns-testing:2.1.1`,
      `${E2E}/kitten:1.8`,
      `${E2E}/nautilus:1.8`,
      `${E2E}/nginx:1.27.0-2`,
      `${E2E}/nginx:1.28.0-2`,
      `${E2E}/nonewprivs:1.4`,
      `${E2E}/sample-apiserver:1.29.2`,
      'registry.k8s.io/etcd:3.7.0-0',
    ],
  },
  {
    version: 'v1.36.3',
    etcd: '3.6.8-0',
    coredns: 'v1.14.2',
    pause: '3.10.2',
    kubeadmApi: 'kubeadm.k8s.io/v1beta4',
    refusesCgroupV1ByDefault: true,
    testImages: [
      `${E2E}/agnhost:2.55`,
      `${E2E}/agnhost:2.63.0`,
      `${E2E}/busybox:1.37.0-1`,
      `${E2E}/glibc-dns-testing:2.0.0`,
      `${E2E}/kitten:1.8`,
      `${E2E}/nautilus:1.8`,
      `${E2E}/nginx:1.15-4`,
      `${E2E}/nginx:1.27-0`,
      `${E2E}/nonewprivs:1.4`,
      `${E2E}/sample-apiserver:1.29.2`,
      'registry.k8s.io/etcd:3.6.8-0',
    ],
  },
  {
    version: 'v1.35.4',
    etcd: '3.6.6-0',
    coredns: 'v1.13.1',
    pause: '3.10.1',
    kubeadmApi: 'kubeadm.k8s.io/v1beta4',
    refusesCgroupV1ByDefault: true,
    testImages: [
      `${E2E}/agnhost:2.55`,
      `${E2E}/agnhost:2.59`,
      `${E2E}/busybox:1.37.0-1`,
      `${E2E}/jessie-dnsutils:1.7`,
      `${E2E}/kitten:1.7`,
      `${E2E}/nautilus:1.7`,
      `${E2E}/nginx:1.14-4`,
      `${E2E}/nginx:1.15-4`,
      `${E2E}/nonewprivs:1.3`,
      `${E2E}/sample-apiserver:1.29.2`,
      'registry.k8s.io/etcd:3.6.6-0',
    ],
  },
  {
    version: 'v1.34.4',
    etcd: '3.6.5-0',
    coredns: 'v1.12.1',
    pause: '3.10.1',
    kubeadmApi: 'kubeadm.k8s.io/v1beta4',
    refusesCgroupV1ByDefault: false,
    testImages: [
      `${E2E}/agnhost:2.56`,
      `${E2E}/busybox:1.37.0-1`,
      `${E2E}/httpd:2.4.38-4`,
      `${E2E}/httpd:2.4.39-4`,
      `${E2E}/jessie-dnsutils:1.7`,
      `${E2E}/kitten:1.7`,
      `${E2E}/nautilus:1.7`,
      `${E2E}/nginx:1.14-4`,
      `${E2E}/nginx:1.15-4`,
      `${E2E}/nonewprivs:1.3`,
      `${E2E}/sample-apiserver:1.29.2`,
      'registry.k8s.io/etcd:3.6.4-0',
    ],
  },
];

export const DEFAULT_KUBEADM_VERSION = KUBERNETES_RELEASES[0]!.version;

/** The minor number of a Kubernetes 1.x version: 37 for v1.37.2. */
export function minorOf(version: string): number {
  const found = /^v?1\.(\d+)(?:\.\d+)?$/.exec(version);
  if (!found)
    throw new UsageError(`--k8s-version: "${version}" is not a Kubernetes version such as ${DEFAULT_KUBEADM_VERSION} or ${minorName(DEFAULT_KUBEADM_VERSION)}`);
  return Number(found[1]);
}

function minorName(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

function known(): string {
  return KUBERNETES_RELEASES.map((release) => release.version).join(', ');
}

/**
 * The release a user's version names: an exact release (v1.36.3 or 1.36.3), or a minor (1.36, v1.36) meaning
 * the newest patch of it kiab knows; none means the default. Anything else is refused with the list.
 */
export function resolveRelease(asked: string | undefined, field = '--k8s-version'): KubernetesRelease {
  if (asked === undefined) return KUBERNETES_RELEASES[0]!;
  const version = asked.startsWith('v') ? asked : `v${asked}`;
  const minor = minorOf(version);
  const found = /^v1\.\d+$/.test(version)
    ? KUBERNETES_RELEASES.find((release) => minorOf(release.version) === minor)
    : KUBERNETES_RELEASES.find((release) => release.version === version);
  if (!found) throw new UsageError(`${field}: kiab does not know Kubernetes ${asked}; it knows ${known()}`);
  return found;
}

/** The release one minor above `version`, if kiab knows one. */
export function nextMinorRelease(version: string): KubernetesRelease | undefined {
  const minor = minorOf(version) + 1;
  return KUBERNETES_RELEASES.find((release) => minorOf(release.version) === minor);
}
