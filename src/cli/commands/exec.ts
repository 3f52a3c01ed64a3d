import type { Command } from 'commander';
import { resolveNode } from '../../cluster/nodes.js';
import type { Provider } from '../../provider/types.js';
import { validateClusterName } from './shared.js';
import { UsageError } from '../../errors.js';
import type { Runtime } from '../runtime.js';

/** Attaches the terminal to a command in a machine; returns its exit code. */
async function attach(provider: Provider, machine: string, argv: string[]): Promise<number> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (tty) process.stdin.setRawMode(true);
  try {
    return await provider.execAttached(machine, argv, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      tty,
      ...(tty ? { size: { rows: process.stdout.rows, columns: process.stdout.columns } } : {}),
      onResize: (listener) => process.stdout.on('resize', () => listener({ rows: process.stdout.rows, columns: process.stdout.columns })),
    });
  } finally {
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

export function registerExec(program: Command, runtime: Runtime): void {
  program
    .command('exec')
    .description('run a command in a machine; its exit code is passed through')
    .argument('<node>', 'machine name, e.g. kiab-NAME-worker-0')
    .argument('<command...>', 'the command, after --')
    .option('--cluster <name>', 'cluster of a short NODE name', (value: string) => validateClusterName(value, '--cluster'))
    .passThroughOptions()
    .action(async (node: string, argv: string[], flags: { cluster?: string }) => {
      const provider = runtime.provider();
      await provider.ping();
      const target = await resolveNode(provider, node, flags.cluster);
      // With pass-through options commander keeps the `--` that separates kiab's flags from the command.
      const command = argv[0] === '--' ? argv.slice(1) : argv;
      if (command.length === 0) throw new UsageError('COMMAND: give the command to run after --');
      process.exitCode = await attach(provider, target.name, command);
    });

  program
    .command('shell')
    .description('open a login shell in a machine')
    .argument('<node>', 'machine name, e.g. kiab-NAME-worker-0')
    .option('--cluster <name>', 'cluster of a short NODE name', (value: string) => validateClusterName(value, '--cluster'))
    .action(async (node: string, flags: { cluster?: string }) => {
      const provider = runtime.provider();
      await provider.ping();
      const target = await resolveNode(provider, node, flags.cluster);
      process.exitCode = await attach(provider, target.name, ['env', `TERM=${process.env.TERM ?? 'xterm'}`, 'bash', '--login']);
    });
}
