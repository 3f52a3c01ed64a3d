import { Option, type Command } from 'commander';
import type { Reporter } from '../reporter.js';
import { AbortedError, UsageError } from '../errors.js';
import { connectEngine, type Engine } from '../cluster/engine.js';
import type { OutputFormat } from './output.js';
import { terminalReporter } from './progress.js';

/** What every command gets: the engine, a progress reporter and a signal that Ctrl-C aborts. */
export interface Runtime {
  provider(): Engine;
  reporter(): Reporter;
  signal: AbortSignal;
  /** Ctrl-C is how this command ends (a watch): it stops quietly, without the "interrupting" notice. */
  endsOnInterrupt(): void;
}

export function createRuntime(options: { timings?: boolean } = {}): Runtime {
  const controller = new AbortController();
  let interrupted = false;
  let quietly = false;
  process.on('SIGINT', () => {
    // First Ctrl-C stops at the next safe point; a second one leaves at once. Either way labels let
    // the next `up` or `delete` finish the job.
    if (interrupted) process.exit(130);
    interrupted = true;
    if (!quietly) process.stderr.write('\ninterrupting; press Ctrl-C again to leave at once\n');
    controller.abort(new AbortedError());
  });
  process.on('SIGTERM', () => controller.abort(new AbortedError()));
  let provider: Engine | undefined;
  return {
    provider: () => (provider ??= connectEngine()),
    reporter: () => terminalReporter(process.stderr, { timings: options.timings === true }),
    signal: controller.signal,
    endsOnInterrupt: () => {
      quietly = true;
    },
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
