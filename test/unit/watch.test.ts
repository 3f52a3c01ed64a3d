import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { watch, type WatchMode } from '../../src/cli/watch.js';

function stream(size: { columns?: number; rows?: number } = {}): NodeJS.WriteStream & { text: () => string } {
  let written = '';
  return {
    ...size,
    write: (chunk: string) => {
      written += chunk;
      return true;
    },
    text: () => written,
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

/** Runs a watch whose frames come from `frames` in turn; Ctrl-C (the abort) comes while the last is asked for. */
async function watchFrames(mode: WatchMode, frames: Array<string | Error>, size = {}): Promise<string> {
  const out = stream(size);
  const controller = new AbortController();
  let asked = 0;
  await watch({
    title: 'kiab status dev',
    interval: 5,
    mode,
    out,
    signal: controller.signal,
    now: () => new Date('2026-11-26T03:30:12Z'),
    frame: async () => {
      const frame = frames[asked++]!;
      if (asked === frames.length) controller.abort();
      if (frame instanceof Error) throw frame;
      return frame;
    },
  });
  return out.text();
}

describe('status --watch', () => {
  it('in a log: each refresh in full, a blank line between, and Ctrl-C ends it normally', async () => {
    assert.equal(await watchFrames('append', ['one\nrow', 'two', 'three']), 'one\nrow\n\ntwo\n');
  });

  it('shows a refresh that failed as its error and goes on', async () => {
    assert.equal(await watchFrames('append', ['one', new Error('engine not answering'), 'three', 'four']), 'one\n\nkiab: engine not answering\n\nthree\n');
  });

  it('on a terminal: redraws in place under a header, fitted to the screen, and shows the cursor again at the end', async () => {
    const text = await watchFrames('redraw', ['a long first line\nsecond', 'b', 'c'], { columns: 11, rows: 4 });
    assert.ok(text.startsWith('\x1b[?25l\x1b[2J'), 'hides the cursor and clears once');
    assert.ok(text.endsWith('\x1b[?25h'), 'shows the cursor again');
    const frames = text.slice('\x1b[?25l\x1b[2J'.length, -'\x1b[?25h'.length).split('\x1b[H').slice(1);
    assert.deepEqual(frames, ['Every 0.00\x1b[K\n\x1b[K\na long fir\x1b[K\n\x1b[J', 'Every 0.00\x1b[K\n\x1b[K\nb\x1b[K\n\x1b[J']);
  });

  it('with -o json: one document per line, errors beside them on stderr', async () => {
    const stderr = mock.method(process.stderr, 'write', () => true);
    try {
      assert.equal(await watchFrames('lines', ['{"a":1}', new Error('gone'), '{"a":2}', 'x']), '{"a":1}\n{"a":2}\n');
      assert.deepEqual(
        stderr.mock.calls.map((call) => call.arguments[0]),
        ['kiab: gone\n'],
      );
    } finally {
      stderr.mock.restore();
    }
  });
});
