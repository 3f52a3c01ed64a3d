import { Command, CommanderError } from 'commander';
import { kiabVersion } from '../version.js';
import { reportError } from './errors.js';
import { createRuntime } from './runtime.js';
import { registerAssets } from './commands/assets.js';
import { registerConformance } from './commands/conformance.js';
import { registerDelete } from './commands/delete.js';
import { registerKubeconfig } from './commands/kubeconfig.js';
import { registerExec } from './commands/exec.js';
import { registerImage } from './commands/image.js';
import { registerList } from './commands/list.js';
import { registerNode } from './commands/node.js';
import { registerRegistry } from './commands/registry.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerStatus } from './commands/status.js';
import { registerUp } from './commands/up.js';

/** Commander's own usage errors exit 2 with a single line; so do kiab's UsageErrors. */
function configure(command: Command): void {
  command.exitOverride();
  command.showSuggestionAfterError(true);
  command.configureOutput({
    outputError: (text, write) =>
      write(
        `kiab: ${text
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*/g, ' ')}\n`,
      ),
  });
  for (const child of command.commands) configure(child);
}

/** --verbose may stand anywhere before a `--`, as users type it after the command too. */
function takeVerbose(argv: string[]): { verbose: boolean; rest: string[] } {
  const end = argv.indexOf('--') === -1 ? argv.length : argv.indexOf('--');
  const head = argv.slice(0, end);
  return { verbose: head.includes('--verbose'), rest: [...head.filter((arg) => arg !== '--verbose'), ...argv.slice(end)] };
}

export async function main(rawArgv: string[]): Promise<number> {
  const { verbose, rest: argv } = takeVerbose(rawArgv);
  const runtime = createRuntime();
  const program = new Command('kiab')
    .description('Kube in a Box: disposable multi-node clusters of systemd machine containers')
    .version(kiabVersion, '-v, --version')
    .option('--verbose', 'print the cause chain of errors (accepted anywhere)')
    .enablePositionalOptions();
  registerUp(program, runtime);
  registerList(program, runtime);
  registerStatus(program, runtime);
  registerDelete(program, runtime);
  registerNode(program, runtime);
  registerExec(program, runtime);
  registerImage(program, runtime);
  registerRegistry(program, runtime);
  registerSnapshot(program, runtime);
  registerAssets(program, runtime);
  registerKubeconfig(program, runtime);
  registerConformance(program, runtime);
  configure(program);
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
