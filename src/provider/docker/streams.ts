import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';

/** Splits the engine's stdout/stderr multiplexing (used when a container has no TTY) into two buffers. */
export function collectDemuxed(modem: Docker['modem'], stream: Readable): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk));
    stderr.on('data', (chunk: Buffer) => err.push(chunk));
    modem.demuxStream(stream, stdout, stderr);
    stream.once('error', reject);
    stream.once('end', () => resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    stream.once('close', () => resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

/** Follows a pull/build/import progress stream; rejects with the engine's own error message. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
        if (error) return reject(error);
        const failed = events.find((event) => event.error || event.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
        resolve();
      },
      (event: { stream?: string; status?: string; progress?: string; id?: string }) => {
        const line = (event.stream ?? [event.id, event.status, event.progress].filter(Boolean).join(' ')).trim();
        if (line) onLine?.(line);
      },
    );
  });
}

export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

export function isNotModified(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 304;
}

export function isConflict(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 409;
}
