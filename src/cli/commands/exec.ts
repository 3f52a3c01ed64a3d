import type { Command } from 'commander';
import { execInNode } from '../../cluster/lifecycle/nodes.js';
import type { Engine } from '../../cluster/engine.js';
import { validateClusterName } from './shared.js';
import { UsageError } from '../../errors.js';
import type { Runtime } from '../runtime.js';

/** Attaches this terminal to a command in a machine; returns its exit code. */
async function attach(engine: Engine, target: { node: string; cluster?: string }, command: string[]): Promise<number> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (tty) process.stdin.setRawMode(true);
  try {
    return await execInNode(engine, {
      ...target,
      command,
      io: {
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        tty,
        ...(tty ? { size: { rows: process.stdout.rows, columns: process.stdout.columns } } : {}),
        onResize: (listener) => process.stdout.on('resize', () => listener({ rows: process.stdout.rows, columns: process.stdout.columns })),
      },
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
      // With pass-through options commander keeps the `--` that separates kiab's flags from the command.
      const command = argv[0] === '--' ? argv.slice(1) : argv;
      if (command.length === 0) throw new UsageError('COMMAND: give the command to run after --');
      process.exitCode = await attach(runtime.provider(), { node, ...flags }, command);
    });

  program
    .command('shell')
    .description('open a login shell in a machine')
    .argument('<node>', 'machine name, e.g. kiab-NAME-worker-0')
    .option('--cluster <name>', 'cluster of a short NODE name', (value: string) => validateClusterName(value, '--cluster'))
    .action(async (node: string, flags: { cluster?: string }) => {
      process.exitCode = await attach(runtime.provider(), { node, ...flags }, ['env', `TERM=${process.env.TERM ?? 'xterm'}`, 'bash', '--login']);
    });
}
