import type { Command } from 'commander';
import { allClusterStatuses, readyNodeCount } from '../../cluster/status.js';
import { age, printJson, table } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

export function registerList(program: Command, runtime: Runtime): void {
  program
    .command('list')
    .alias('ls')
    .description('list clusters')
    .addOption(outputOption())
    .action(async (_flags: unknown, command: Command) => {
      const provider = runtime.provider();
      await provider.ping();
      const statuses = await allClusterStatuses(provider);
      const rows = statuses.map((status) => ({
        name: status.name,
        state: status.state,
        nodesReady: readyNodeCount(status),
        nodesTotal: status.nodes.length,
        address: status.address,
        distribution: status.distribution,
        createdAt: status.createdAt,
      }));
      if (outputOf(command) === 'json') return printJson(rows);
      if (rows.length === 0) return void process.stdout.write('no clusters; create one with `kiab up`\n');
      process.stdout.write(
        `${table(
          ['Name', 'State', 'Nodes', 'Address', 'Distribution', 'Age'],
          rows.map((row) => [row.name, row.state, `${row.nodesReady}/${row.nodesTotal}`, row.address, row.distribution, age(row.createdAt)]),
        )}\n`,
      );
    });
}
