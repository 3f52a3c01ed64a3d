import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortedError, KiabError } from '../../src/errors.js';
import { poll, sleep } from '../../src/wait.js';

const timeout = (): KiabError => new KiabError('not yet', { hint: 'raise --wait' });

describe('poll', () => {
  it('returns the first value a check gives', async () => {
    let calls = 0;
    const value = await poll(async () => (++calls === 3 ? 'ready' : undefined), { interval: 5, deadline: Date.now() + 5_000, timeout });
    assert.deepEqual([value, calls], ['ready', 3]);
  });

  it("throws the caller's error at the deadline", async () => {
    await assert.rejects(
      poll(async () => undefined, { interval: 10, deadline: Date.now() + 50, timeout }),
      (error) => error instanceof KiabError && error.hint === 'raise --wait',
    );
  });

  it('ends with AbortedError at once when interrupted mid-pause, never a raw abort error', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new DOMException('raw', 'AbortError')), 30);
    await assert.rejects(
      poll(async () => undefined, { interval: 10_000, deadline: Date.now() + 60_000, timeout, signal: controller.signal }),
      AbortedError,
    );
    assert.ok(Date.now() - started < 5_000, 'the pause was cut short');
  });

  it('does not let a check that hangs carry the wait past its deadline', async () => {
    const started = Date.now();
    await assert.rejects(
      poll(() => new Promise<undefined>(() => undefined), { interval: 10, deadline: Date.now() + 100, timeout }),
      /not yet/,
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it("lets a check's own error through", async () => {
    await assert.rejects(
      poll(async () => Promise.reject(new Error('engine gone')), { interval: 10, deadline: Date.now() + 1_000, timeout }),
      /engine gone/,
    );
  });
});

describe('sleep', () => {
  it('rejects with AbortedError when the signal was already aborted', async () => {
    await assert.rejects(sleep(10, AbortSignal.abort()), AbortedError);
  });
});
