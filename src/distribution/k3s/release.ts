import { UsageError } from '../../errors.js';
import type { Arch } from '../../assets/cache.js';

/** The k3s release kiab uses unless told otherwise: a recent stable minor. */
export const DEFAULT_K3S_VERSION = 'v1.36.4+k3s1';

/** Only plain release versions (v1.36.4+k3s1): the version becomes a cache path and a URL segment. */
export function k3sRequestVersion(version: string | undefined): string {
  const wanted = version ?? DEFAULT_K3S_VERSION;
  if (!/^v\d+\.\d+\.\d+\+k3s\d+$/.test(wanted)) throw new UsageError(`--k8s-version: "${wanted}" must look like ${DEFAULT_K3S_VERSION}`);
  return wanted;
}

/** Where releases come from; KIAB_K3S_RELEASE_URL points at a mirror (or a test server). */
export function k3sReleaseBase(env: NodeJS.ProcessEnv = process.env): string {
  return (env.KIAB_K3S_RELEASE_URL ?? 'https://github.com/k3s-io/k3s/releases/download').replace(/\/+$/, '');
}

/** Release asset names for one architecture: the binary, its sums file and the air-gap images. */
export function k3sAssetNames(arch: Arch): { binary: string; sums: string; images: string } {
  const suffix = arch === 'amd64' ? '' : `-${arch}`;
  return { binary: `k3s${suffix}`, sums: `sha256sum-${arch}.txt`, images: `k3s-airgap-images-${arch}.tar.zst` };
}

export function k3sAssetUrl(version: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  return `${k3sReleaseBase(env)}/${encodeURIComponent(version)}/${name}`;
}

/** Parses a `sha256sum` listing ("HASH  NAME" per line) into name -> hash. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/.exec(line.trim());
    if (match) sums.set(match[2]!, match[1]!);
  }
  return sums;
}

/** Which architecture and role a release file name has, for `assets import`. */
export function classifyK3sFile(name: string): { arch: Arch; kind: 'binary' | 'sums' | 'images' } | undefined {
  for (const arch of ['amd64', 'arm64'] as const) {
    const names = k3sAssetNames(arch);
    if (name === names.binary) return { arch, kind: 'binary' };
    if (name === names.sums) return { arch, kind: 'sums' };
    if (name === names.images) return { arch, kind: 'images' };
  }
  return undefined;
}
