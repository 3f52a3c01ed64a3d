import { Option, type Command } from 'commander';
import type { Reporter } from '../reporter.js';
import { AbortedError, UsageError, type StopSignal } from '../errors.js';
import { undoBeforeForcedExit } from '../forced-exit.js';
import { reportError } from './errors.js';
import { connectEngine, type Engine } from '../cluster/engine.js';
import type { OutputFormat } from './output.js';
import { terminalReporter } from './progress.js';

/** What every command gets: the engine, a progress reporter and a signal that Ctrl-C or SIGTERM aborts. */
export interface Runtime {
  provider(): Engine;
  reporter(): Reporter;
  signal: AbortSignal;
  /** Ctrl-C is how this command ends (a watch): it stops quietly, without the "interrupting" notice. */
  endsOnInterrupt(): void;
  /** The signal that stopped the command, if one did: its exit code is that signal's. */
  stoppedBy(): StopSignal | undefined;
}

/** How long a stopped command has to reach its next safe point before kiab leaves without it. */
const SAFE_POINT_GRACE_MS = 1_500;
/** How long the undos of a forced exit may take (unpausing machines): within the promise of an exit in 3 s. */
const UNDO_MS = 1_000;

export function createRuntime(options: { timings?: boolean } = {}): Runtime {
  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  let quietly = false;
  /** Leaves now, once the undos that must not be skipped ran (see forced-exit.ts). */
  const leave = async (signal: StopSignal): Promise<void> => {
    await undoBeforeForcedExit(UNDO_MS);
    process.exit(reportError(new AbortedError(signal), false));
  };
  const stop = (signal: StopSignal): void => {
    // The first signal stops at the next safe point; a second one, or the grace running out, leaves at once.
    // Either way labels let the next `up` or `delete` finish the job.
    if (stoppedBy) return void leave(stoppedBy);
    stoppedBy = signal;
    if (!quietly && signal === 'SIGINT') process.stderr.write('\ninterrupting; press Ctrl-C again to leave at once\n');
    controller.abort(new AbortedError(signal));
    // Unref'd: a command that finishes in time exits by itself.
    setTimeout(() => void leave(signal), SAFE_POINT_GRACE_MS).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  let provider: Engine | undefined;
  return {
    provider: () => (provider ??= connectEngine()),
    reporter: () => terminalReporter(process.stderr, { timings: options.timings === true }),
    signal: controller.signal,
    endsOnInterrupt: () => {
      quietly = true;
    },
    stoppedBy: () => stoppedBy,
  };
}

export const outputOption = (): Option => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

export function outputOf(command: Command): OutputFormat {
  return (command.opts().output as OutputFormat | undefined) ?? 'text';
}

export function parseCount(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new UsageError(`${name}: "${value}" is not a whole number`);
    const number = Number(value);
    if (number < min || number > max) throw new UsageError(`${name}: must be between ${min} and ${max}, got ${number}`);
    return number;
  };
}
