import mergePatch from 'json-merge-patch';
import { parse, stringify } from 'smol-toml';
import { readPackageFile } from '../package-files.js';

/** Where the node image keeps containerd's configuration, and what it holds there. */
export const CONTAINERD_CONFIG_PATH = '/etc/containerd/config.toml';
export const CONTAINERD_CONFIG = readPackageFile('src/images/files/containerd-config.toml');

/**
 * The node image's containerd configuration with TOML patches merged in order: tables merge key by key, any
 * other value replaces the one before (RFC 7386 on the parsed tables, as kind merges its patches).
 */
export function patchedContainerdConfig(patches: string[]): string {
  let config = parse(CONTAINERD_CONFIG) as Record<string, unknown>;
  for (const patch of patches) config = mergePatch.apply(config, parse(patch)) as Record<string, unknown>;
  return `# kiab's node image configuration with the cluster's containerdConfigPatches merged in.\n${stringify(config)}\n`;
}
