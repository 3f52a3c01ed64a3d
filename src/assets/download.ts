import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { AbortedError, KiabError } from '../errors.js';
import { sha256File } from './cache.js';
import { undici } from './http.js';

type Http = { request: typeof import('./undici.js').request; dispatcher: import('./undici.js').Dispatcher };
let loaded: Promise<Http> | undefined;

/** One agent for every download, following redirects (GitHub release assets redirect to a CDN). */
function http(): Promise<Http> {
  loaded ??= undici().then(({ Agent, interceptors, request }) => ({
    request,
    dispatcher: new Agent().compose(interceptors.redirect({ maxRedirections: 5 })),
  }));
  return loaded;
}

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

/** How long a download may take to reach its host: a TCP handshake takes well under this on any working link. */
const REACH_TIMEOUT_MS = 1500;

/**
 * Resolves once a TCP connection to the URL's host opens. Without a network this fails at once (no DNS, no
 * route, refused) or after REACH_TIMEOUT_MS (packets dropped), where a download would wait on its resolver
 * and connect timeouts for many seconds before saying anything.
 */
function reach(url: string, signal: AbortSignal | undefined): Promise<void> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port || (protocol === 'https:' ? 443 : 80)) });
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const stop = (): void => settle(new AbortedError());
    const timer = setTimeout(
      () => settle(Object.assign(new Error('no answer'), { code: `no answer from ${hostname} within ${REACH_TIMEOUT_MS / 1000} s` })),
      REACH_TIMEOUT_MS,
    );
    signal?.addEventListener('abort', stop, { once: true });
    socket.once('connect', () => settle());
    socket.once('error', settle);
  });
}

async function downloadOnce(
  url: string,
  path: string,
  options: { sha256?: string; onProgress?: (progress: DownloadProgress) => void; signal?: AbortSignal },
): Promise<void> {
  const part = `${path}.part`;
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  let response;
  try {
    await reach(url, options.signal);
    // Only once the host answered: a machine without network is left without empty cache folders.
    await mkdir(dirname(path), { recursive: true });
    const { request, dispatcher } = await http();
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
  if (statusCode === 416 && have > 0) {
    await body.dump();
    // The .part holds the whole file already (a run was stopped while it checked it): kept if it matches its
    // sum, else begun again, as nothing past its end can be asked for.
    if (options.sha256 && (await sha256File(part)) === options.sha256) return rename(part, path);
    await unlink(part);
    return downloadOnce(url, path, options);
  }
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
