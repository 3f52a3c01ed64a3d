import type { Provider } from '../provider/types.js';
import { parseImageRef, resolveDigest, type ImageName } from './image-digest.js';

/**
 * Where an image is pulled from: its own registry, or the mirror KIAB_IMAGE_MIRROR names, which serves every
 * image kiab pulls (control plane, conformance, addons) under the same repository paths.
 */
function imageSource(ref: string): ImageName {
  const name = parseImageRef(ref);
  const mirror = process.env.KIAB_IMAGE_MIRROR?.replace(/\/+$/, '');
  return mirror ? { ...name, registry: mirror } : name;
}

/**
 * Pulls an image by the digest its tag points at now, then names it `ref`: the engine checks every byte against
 * the digest, so what lands in the cache is exactly what was resolved, and an image the engine already held
 * under that name is never taken for it. Returns the digest.
 */
export async function pullPinned(provider: Provider, ref: string, onProgress: (line: string) => void, signal?: AbortSignal): Promise<string> {
  const source = imageSource(ref);
  const digest = await resolveDigest(source, signal);
  const pinned = `${source.registry}/${source.repository}@${digest}`;
  await provider.pullImage(pinned, onProgress);
  await provider.tagImage(pinned, ref);
  return digest;
}
