import { CommanderError } from 'commander';
import { AbortedError, KiabError, isAbort } from '../errors.js';

/** Prints an error as one line (plus the cause chain with --verbose) and returns the exit code. */
export function reportError(error: unknown, verbose: boolean): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  // An interrupt that surfaced as a library's own AbortError is reported like every other interrupt.
  if (isAbort(error) && !(error instanceof KiabError)) return reportError(new AbortedError(), verbose);
  if (error instanceof KiabError) {
    process.stderr.write(`kiab: ${error.message}${error.hint ? `; ${error.hint}` : ''}\n`);
    if (verbose) printCauses(error);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  process.stderr.write(`kiab: ${message}${verbose ? '' : ' (run with --verbose for details)'}\n`);
  if (verbose) printCauses(error);
  return 1;
}

function printCauses(error: unknown): void {
  let current: unknown = error;
  while (current) {
    process.stderr.write(`${current instanceof Error ? (current.stack ?? current.message) : String(current)}\n`);
    current = current instanceof Error ? current.cause : undefined;
    if (current) process.stderr.write('caused by: ');
  }
}
