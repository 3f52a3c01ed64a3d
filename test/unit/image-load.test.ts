import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { importInto } from '../../src/cluster/image-load.js';
import type { ExecOptions, ExecResult, Provider } from '../../src/provider/types.js';

const MiB = 1 << 20;

/** An image stream of `size` bytes, fanned out the way `image load` fans it out (one buffered pass-through). */
function imageStream(size: number): PassThrough {
  const chunks = Array.from({ length: size / MiB }, () => Buffer.alloc(MiB, 7));
  const fanOut = new PassThrough({ highWaterMark: 4 * MiB });
  Readable.from(chunks).pipe(fanOut);
  return fanOut;
}

/** Machines whose import reads all its input (counting it), or reads one chunk and then no more until stopped. */
function machines(stalling: Set<string>): { provider: Provider; received: Map<string, number> } {
  const received = new Map<string, number>();
  const exec = async (name: string, _command: string[], options: ExecOptions = {}): Promise<ExecResult> => {
    const input = options.stdin as Readable;
    // Stopping an import ends it with an error, as the engine's exec does.
    const stopped = new Promise<never>((_resolve, reject) => options.signal?.addEventListener('abort', () => reject(new Error('stopped')), { once: true }));
    const reading = async (): Promise<void> => {
      if (stalling.has(name)) {
        // It takes one chunk half-way between two of the watchdog's looks, then no more.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await new Promise((resolve) => input.once('data', () => resolve(input.pause())));
        await stopped;
      }
      let total = 0;
      for await (const chunk of input) total += (chunk as Buffer).length;
      received.set(name, total);
    };
    await Promise.race([reading(), stopped]);
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  return { provider: { exec } as unknown as Provider, received };
}

describe('image load into several machines', () => {
  it('stops a machine that takes no data, and the machines held back meanwhile still load everything', async () => {
    const size = 48 * MiB;
    const source = imageStream(size);
    const { provider, received } = machines(new Set(['stalling']));
    // The others have read all there is when the stalling machine stops reading, and it is checked last in
    // each round: the others are checked while the fan-out is still paused for it.
    const results = await Promise.all(['healthy-0', 'healthy-1', 'stalling'].map((name) => importInto(provider, name, ['ctr'], source, 1_000, undefined)));
    assert.deepEqual(
      results.map((result) => [result.node, result.loaded, result.error]),
      [
        ['healthy-0', true, null],
        ['healthy-1', true, null],
        ['stalling', false, 'took no data for 1s and was stopped'],
      ],
    );
    assert.equal(received.get('healthy-0'), size);
    assert.equal(received.get('healthy-1'), size);
  });

  it('stops every machine when none reads', async () => {
    const { provider } = machines(new Set(['a', 'b']));
    const source = imageStream(16 * MiB);
    const results = await Promise.all(['a', 'b'].map((name) => importInto(provider, name, ['ctr'], source, 1_000, undefined)));
    assert.deepEqual(
      results.map((result) => result.error),
      ['took no data for 1s and was stopped', 'took no data for 1s and was stopped'],
    );
  });
});
