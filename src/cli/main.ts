import { CommanderError } from 'commander';
import { reportError } from './errors.js';
import { buildProgram } from './program.js';
import { createRuntime } from './runtime.js';

/** --verbose may stand anywhere before a `--`, as users type it after the command too. */
function takeVerbose(argv: string[]): { verbose: boolean; rest: string[] } {
  const end = argv.indexOf('--') === -1 ? argv.length : argv.indexOf('--');
  const head = argv.slice(0, end);
  return { verbose: head.includes('--verbose'), rest: [...head.filter((arg) => arg !== '--verbose'), ...argv.slice(end)] };
}

export async function main(rawArgv: string[]): Promise<number> {
  const { verbose, rest: argv } = takeVerbose(rawArgv);
  const runtime = createRuntime();
  const program = buildProgram(runtime);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError && (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'))
      return 0;
    return reportError(error, verbose);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(reportError(error, true)),
);
