import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { undici } from '../assets/http.js';
import { AbortedError, KiabError } from '../errors.js';
import { readEntry, tarEntries, type TarEntry } from './tar-entries.js';

/*
 * Pushes the image of a `docker save` archive to a registry over its HTTP API (distribution's v2), from the
 * archive as it lies on disk: each layer is sent as a slice of the file, as saved (uncompressed), under the
 * digest the image's configuration already names for it (its diff ID), and a layer the registry holds is not
 * sent again. No engine or machine has to import the image first.
 */

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
const GZIP_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** `manifest.json` of `docker save`, in Docker's own layout and in the OCI one (Docker 25 and later). */
const savedManifest = z.array(z.object({ Config: z.string(), RepoTags: z.array(z.string()).nullish(), Layers: z.array(z.string()) }));
const imageConfig = z.object({ rootfs: z.object({ diff_ids: z.array(z.string()) }) });

export interface Registry {
  /** `http://HOST:PORT`. */
  base: string;
  /** The value of an Authorization header, when the registry asks for a login. */
  authorization?: string;
}

interface Blob {
  digest: string;
  size: number;
  mediaType: string;
  /** The blob's bytes, each time they are sent. */
  body: () => NodeJS.ReadableStream | Buffer;
}

/** Reads a registry's answer as a one-line reason: its error message when it sent one. */
async function failure(what: string, response: { statusCode: number; body: { text(): Promise<string> } }): Promise<KiabError> {
  const text = await response.body.text().catch(() => '');
  const message = (() => {
    try {
      return (JSON.parse(text) as { errors?: Array<{ message?: string }> }).errors?.[0]?.message;
    } catch {
      return undefined;
    }
  })();
  return new KiabError(`${what}: the registry answered HTTP ${response.statusCode}${message ? ` (${message})` : ''}`);
}

/**
 * A session of pushes to one registry. It remembers which repository each blob went to, so that a layer shared
 * by images of several repositories is mounted from the first one instead of sent again.
 */
export class ArchivePusher {
  private readonly holder = new Map<string, string>();

  constructor(
    private readonly registry: Registry,
    private readonly signal: AbortSignal,
  ) {}

  private async request(
    method: 'HEAD' | 'POST' | 'PUT',
    url: string,
    options: { headers?: Record<string, string>; body?: NodeJS.ReadableStream | Buffer } = {},
  ) {
    const { request } = await undici();
    const headers = { ...options.headers, ...(this.registry.authorization ? { authorization: this.registry.authorization } : {}) };
    try {
      return await request(new URL(url, this.registry.base), {
        method,
        headers,
        ...(options.body ? { body: options.body as Buffer } : {}),
        signal: this.signal,
      });
    } catch (error) {
      if (this.signal.aborted) throw new AbortedError();
      throw new KiabError(`cannot reach the registry at ${this.registry.base} (${(error as { code?: string }).code ?? (error as Error).message})`, {
        cause: error,
      });
    }
  }

  /** One blob into `repository`: already there, mounted from the repository that has it, or sent. */
  private async putBlob(repository: string, blob: Blob): Promise<void> {
    const head = await this.request('HEAD', `/v2/${repository}/blobs/${blob.digest}`);
    await head.body.dump();
    if (head.statusCode === 200) {
      this.holder.set(blob.digest, repository);
      return;
    }
    const from = this.holder.get(blob.digest);
    const start = await this.request(
      'POST',
      `/v2/${repository}/blobs/uploads/${from ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : ''}`,
    );
    if (start.statusCode === 201) {
      await start.body.dump();
      this.holder.set(blob.digest, repository);
      return;
    }
    if (start.statusCode !== 202) throw await failure(`starting the upload of ${blob.digest} to ${repository}`, start);
    await start.body.dump();
    const location = new URL(String(start.headers.location ?? ''), this.registry.base);
    location.searchParams.set('digest', blob.digest);
    const put = await this.request('PUT', location.toString(), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
      body: blob.body(),
    });
    if (put.statusCode !== 201) throw await failure(`uploading ${blob.digest} to ${repository}`, put);
    await put.body.dump();
    this.holder.set(blob.digest, repository);
  }

  /** The one image of `archive` as `repository:tag`: its layers and configuration, then its manifest. */
  async push(archive: string, repository: string, tag: string): Promise<void> {
    const entries = await tarEntries(archive);
    const entry = (path: string): TarEntry => {
      const found = entries.get(path);
      if (!found) throw new KiabError(`${archive} has no ${path}: it is not an archive of \`docker save\``);
      return found;
    };
    const images = savedManifest.safeParse(JSON.parse((await readEntry(archive, entry('manifest.json'))).toString('utf8')));
    if (!images.success || images.data.length !== 1) throw new KiabError(`${archive}: its manifest.json does not describe exactly one image`);
    const image = images.data[0]!;
    const configBytes = await readEntry(archive, entry(image.Config));
    const config = imageConfig.safeParse(JSON.parse(configBytes.toString('utf8')));
    if (!config.success || config.data.rootfs.diff_ids.length !== image.Layers.length)
      throw new KiabError(`${archive}: the image's configuration does not name one diff ID per layer`);
    const layers: Blob[] = [];
    for (const [index, path] of image.Layers.entries()) {
      const slice = entry(path);
      const first = await readEntry(archive, { offset: slice.offset, size: Math.min(2, slice.size) });
      const gzip = first[0] === 0x1f && first[1] === 0x8b;
      // In the OCI layout a layer is stored under its digest; in Docker's own, saved uncompressed, its digest is its diff ID.
      const named = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(path)?.[1];
      const digest = named ? `sha256:${named}` : gzip ? undefined : config.data.rootfs.diff_ids[index];
      if (!digest) throw new KiabError(`${archive}: layer ${path} is compressed and not named by its digest`);
      layers.push({
        digest,
        size: slice.size,
        mediaType: gzip ? GZIP_LAYER : LAYER,
        body: () => createReadStream(archive, { start: slice.offset, end: slice.offset + slice.size - 1 }),
      });
    }
    const configBlob: Blob = {
      digest: `sha256:${createHash('sha256').update(configBytes).digest('hex')}`,
      size: configBytes.length,
      mediaType: DOCKER_CONFIG,
      body: () => configBytes,
    };
    for (const blob of [...layers, configBlob]) await this.putBlob(repository, blob);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: configBlob.mediaType, size: configBlob.size, digest: configBlob.digest },
      layers: layers.map(({ mediaType, size, digest }) => ({ mediaType, size, digest })),
    });
    const put = await this.request('PUT', `/v2/${repository}/manifests/${tag}`, { headers: { 'content-type': DOCKER_MANIFEST }, body: Buffer.from(manifest) });
    if (put.statusCode !== 201) throw await failure(`storing the manifest of ${repository}:${tag}`, put);
    await put.body.dump();
  }
}
