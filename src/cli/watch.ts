import { AbortedError } from '../errors.js';
import { sleep } from '../wait.js';

/**
 * How a watch shows each refresh: `redraw` in place on a terminal (like `watch` and `juju status --watch`),
 * `append` in a log (each refresh in full, a blank line between), `lines` for JSON (one document per line).
 */
export type WatchMode = 'redraw' | 'append' | 'lines';

export interface WatchOptions {
  /** One refresh: the text to show (without a trailing newline). Its errors are shown in its place. */
  frame: () => Promise<string>;
  /** Shown above each redrawn frame, like `watch`'s "Every 2s: command" line. */
  title: string;
  interval: number;
  mode: WatchMode;
  signal: AbortSignal;
  out?: NodeJS.WriteStream;
  now?: () => Date;
}

/** Resolves with the frame, or rejects at once with AbortedError when Ctrl-C comes while it is made. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortedError());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    // A watch runs for hours: one listener per refresh would pile up.
    signal.removeEventListener('abort', onAbort);
  }
}

/** Fits a frame to the terminal, as `watch` does: a frame taller or wider than the screen would scroll and tear. */
function fitted(text: string, out: NodeJS.WriteStream): string[] {
  const lines = text.split('\n').map((line) => line.slice(0, Math.max(1, (out.columns ?? 200) - 1)));
  return out.rows ? lines.slice(0, Math.max(1, out.rows - 1)) : lines;
}

/** A refresh that failed: its error in place of the frame, or, for JSON lines, beside them on stderr (undefined). */
function failure(error: unknown, mode: WatchMode): string | undefined {
  const message = `kiab: ${error instanceof Error ? error.message : String(error)}`;
  if (mode !== 'lines') return message;
  process.stderr.write(`${message}\n`);
  return undefined;
}

/**
 * Shows a frame every `interval` until Ctrl-C, which ends the watch normally: it resolves and the command
 * exits 0, as `watch` does, since a view that only ends that way has not failed. A refresh that fails (the
 * engine restarting) shows its error and the watch goes on.
 */
export async function watch(options: WatchOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const now = options.now ?? ((): Date => new Date());
  let shown = 0;
  const show = (text: string): void => {
    if (options.mode === 'redraw') {
      const header = `Every ${options.interval / 1000}s: ${options.title}    ${now().toISOString().replace('T', ' ').slice(0, 19)}`;
      // Home, then each line over the last frame's, each cleared to its end, and the rest of the screen below.
      out.write(`\x1b[H${fitted(`${header}\n\n${text}`, out).join('\x1b[K\n')}\x1b[K\n\x1b[J`);
    } else out.write(`${shown > 0 && options.mode === 'append' ? '\n' : ''}${text}\n`);
    shown++;
  };
  if (options.mode === 'redraw') out.write('\x1b[?25l\x1b[2J'); // hide the cursor, clear the screen once
  try {
    for (;;) {
      const text = await untilAborted(
        options.frame().catch((error: unknown) => failure(error, options.mode)),
        options.signal,
      );
      if (text !== undefined) show(text);
      await sleep(options.interval, options.signal);
    }
  } catch (error) {
    if (!(error instanceof AbortedError)) throw error;
  } finally {
    if (options.mode === 'redraw') out.write('\x1b[?25h');
  }
}
