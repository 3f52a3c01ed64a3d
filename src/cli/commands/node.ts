import { Option, type Command } from 'commander';
import { addNode, removeNode, startNode, stopNode } from '../../cluster/lifecycle/nodes.js';
import type { NodeStatus } from '../../cluster/status.js';
import type { MachineRole } from '../../labels.js';
import { printJson, table, uptime } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';
import { validateClusterName } from './shared.js';

function printNode(node: NodeStatus): void {
  process.stdout.write(
    `${table(['Node', 'Role', 'State', 'System', 'IP', 'Uptime'], [[node.name, node.role, node.state, node.system, node.ip, uptime(node.uptimeSeconds)]])}\n`,
  );
}

export function registerNode(program: Command, runtime: Runtime): void {
  const node = program.command('node').description('add, stop, start and remove machines of a cluster');
  const clusterOption = (): Option =>
    new Option('--cluster <name>', 'cluster of a short NODE name such as worker-0').argParser((value: string) => validateClusterName(value, '--cluster'));
  const emit = (command: Command, result: NodeStatus): void => (outputOf(command) === 'json' ? printJson(result) : printNode(result));

  node
    .command('add')
    .description('add a machine to a cluster')
    .addOption(clusterOption().default('kiab'))
    .addOption(new Option('--role <role>', 'machine role').choices(['worker', 'server']).default('worker'))
    .addOption(outputOption())
    .action(async (flags: { cluster: string; role: MachineRole }, command: Command) => {
      emit(
        command,
        await addNode({ provider: runtime.provider(), reporter: runtime.reporter(), signal: runtime.signal, cluster: flags.cluster, role: flags.role }),
      );
    });

  for (const [verb, description, run] of [
    ['start', 'start a stopped machine and wait until it has booted', startNode],
    ['stop', 'stop a machine (it keeps its disk and address)', stopNode],
  ] as const) {
    node
      .command(verb)
      .description(description)
      .argument('<node>', 'machine name, e.g. kiab-NAME-worker-0')
      .addOption(clusterOption())
      .addOption(outputOption())
      .action(async (name: string, flags: { cluster?: string }, command: Command) => {
        emit(
          command,
          await run({
            provider: runtime.provider(),
            reporter: runtime.reporter(),
            signal: runtime.signal,
            node: name,
            ...(flags.cluster ? { cluster: flags.cluster } : {}),
          }),
        );
      });
  }

  node
    .command('rm')
    .description('remove a machine and its volumes')
    .argument('<node>', 'machine name, e.g. kiab-NAME-worker-0')
    .addOption(clusterOption())
    .addOption(outputOption())
    .action(async (name: string, flags: { cluster?: string }, command: Command) => {
      const result = await removeNode({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        signal: runtime.signal,
        node: name,
        ...(flags.cluster ? { cluster: flags.cluster } : {}),
      });
      if (outputOf(command) === 'json') printJson(result);
    });
}
