import { CommanderError } from 'commander';
import { AbortedError, UsageError } from '../errors.js';
import { reportError } from './errors.js';
import { buildProgram } from './program.js';
import { createRuntime } from './runtime.js';

const ANYWHERE = ['--verbose', '--timings'];

/** --verbose and --timings may stand anywhere before a `--`, as users type them after the command too. */
function takeGlobalFlags(argv: string[]): { verbose: boolean; timings: boolean; rest: string[] } {
  const end = argv.indexOf('--') === -1 ? argv.length : argv.indexOf('--');
  const head = argv.slice(0, end);
  return {
    verbose: head.includes('--verbose'),
    timings: head.includes('--timings'),
    rest: [...head.filter((arg) => !ANYWHERE.includes(arg)), ...argv.slice(end)],
  };
}

export async function main(rawArgv: string[]): Promise<number> {
  const { verbose, timings, rest: argv } = takeGlobalFlags(rawArgv);
  const runtime = createRuntime({ timings });
  const program = buildProgram(runtime);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError && (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'))
      return 0;
    // Whatever a stopped command failed with on its way out, it was stopped: the exit code says by which signal.
    const stoppedBy = runtime.stoppedBy();
    return reportError(stoppedBy && !(error instanceof UsageError) ? new AbortedError(stoppedBy) : error, verbose);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(reportError(error, true)),
);
