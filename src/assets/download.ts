import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { Agent, interceptors, request } from 'undici';

/** GitHub release assets redirect to a CDN. */
const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));
import { AbortedError, KiabError } from '../errors.js';
import { sha256File } from './cache.js';

export interface DownloadProgress {
  received: number;
  total: number | undefined;
}

/**
 * Downloads a URL to a file, resuming a `.part` left by an interrupted run with an HTTP Range request, and
 * moves it into place only once complete and, when a sum is given, only when it matches.
 */
export async function download(
  url: string,
  path: string,
  options: { sha256?: string; onProgress?: (progress: DownloadProgress) => void; signal?: AbortSignal } = {},
): Promise<void> {
  try {
    await downloadOnce(url, path, options);
  } catch (error) {
    // Ctrl-C stops the transfer at once; what arrived stays in the .part file for the next run to resume.
    if (options.signal?.aborted) throw new AbortedError();
    throw error;
  }
}

async function downloadOnce(
  url: string,
  path: string,
  options: { sha256?: string; onProgress?: (progress: DownloadProgress) => void; signal?: AbortSignal },
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  let response;
  try {
    response = await request(url, {
      method: 'GET',
      dispatcher,
      headers: have > 0 ? { range: `bytes=${have}-` } : {},
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string }; code?: string }).cause?.code ?? (error as { code?: string }).code ?? (error as Error).message;
    throw new KiabError(`cannot download ${url} (${cause})`, { cause: error });
  }
  const { statusCode, headers, body } = response;
  if (statusCode !== 200 && statusCode !== 206) {
    await body.dump();
    throw new KiabError(`cannot download ${url} (HTTP ${statusCode})`);
  }
  const resumed = statusCode === 206 && have > 0;
  const length = Number(headers['content-length'] ?? Number.NaN);
  const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined;
  let received = resumed ? have : 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      options.onProgress?.({ received, total });
      done(null, chunk);
    },
  });
  await pipeline(body, counter, createWriteStream(part, { flags: resumed ? 'a' : 'w' }));
  if (options.sha256) {
    const actual = await sha256File(part);
    if (actual !== options.sha256) {
      await unlink(part).catch(() => undefined);
      throw new KiabError(
        `${url} does not match its published checksum (expected ${options.sha256.slice(0, 16)}…, got ${actual.slice(0, 16)}…); the download was discarded`,
      );
    }
  }
  await rename(part, path);
}
