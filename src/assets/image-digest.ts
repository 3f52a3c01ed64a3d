import { AbortedError, KiabError } from '../errors.js';
import { undici } from './http.js';

/** Every manifest kind a registry may hold under a tag; a multi-arch index is what gets pinned, as docker pins it. */
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ImageName {
  registry: string;
  repository: string;
  tag: string;
}

/** `registry.k8s.io/coredns/coredns:v1.12.1` -> its registry, repository and tag; refs without a registry host are refused. */
export function parseImageRef(ref: string): ImageName {
  const match = /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9._/-]+):([\w][\w.-]{0,127})$/.exec(ref);
  if (!match) throw new KiabError(`cannot pin image "${ref}": expected REGISTRY/REPOSITORY:TAG`);
  return { registry: match[1]!, repository: match[2]!, tag: match[3]! };
}

/** Docker talks plain HTTP to a registry on this host and TLS to every other. */
function registryBase(registry: string): string {
  const host = registry.replace(/:\d+$/, '');
  return `${host === 'localhost' || host === '127.0.0.1' ? 'http' : 'https'}://${registry}`;
}

/** An anonymous bearer token, when the registry asks for one (`WWW-Authenticate: Bearer realm=...,service=...,scope=...`). */
async function anonymousToken(challenge: string, signal?: AbortSignal): Promise<string> {
  const fields = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
  if (!/^Bearer /i.test(challenge) || !fields.realm) throw new KiabError(`the registry asks for credentials kiab does not have (${challenge})`);
  const url = new URL(fields.realm);
  for (const key of ['service', 'scope']) if (fields[key]) url.searchParams.set(key, fields[key]);
  const { request } = await undici();
  const response = await request(url, { method: 'GET', ...(signal ? { signal } : {}) });
  const body = (await response.body.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (response.statusCode !== 200 || !token) throw new KiabError(`${url.origin} gave no anonymous token (HTTP ${response.statusCode})`);
  return token;
}

/**
 * What a tag points at now, as the registry's content digest (`sha256:...`): kiab then pulls that digest, so
 * the engine verifies every byte against it and a tag moved in between cannot slip in.
 */
export async function resolveDigest(name: ImageName, signal?: AbortSignal): Promise<string> {
  const url = `${registryBase(name.registry)}/v2/${name.repository}/manifests/${name.tag}`;
  const { request } = await undici();
  const ask = async (token?: string) =>
    request(url, {
      method: 'HEAD',
      headers: { accept: MANIFEST_TYPES, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(signal ? { signal } : {}),
    });
  try {
    let response = await ask();
    if (response.statusCode === 401) response = await ask(await anonymousToken(String(response.headers['www-authenticate'] ?? ''), signal));
    const digest = String(response.headers['docker-content-digest'] ?? '');
    if (response.statusCode !== 200) throw new KiabError(`cannot resolve ${url}: HTTP ${response.statusCode}`);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new KiabError(`${url} answered without a sha256 content digest; refusing to pull it unpinned`);
    return digest;
  } catch (error) {
    if (signal?.aborted) throw new AbortedError();
    if (error instanceof KiabError) throw error;
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new KiabError(`cannot resolve ${url} (${code})`, { cause: error });
  }
}
