import type { Command } from 'commander';
import { deleteClusters } from '../../cluster/lifecycle/delete.js';
import { UsageError } from '../../errors.js';
import { printJson } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';
import { validateClusterName } from './shared.js';

export function registerDelete(program: Command, runtime: Runtime): void {
  program
    .command('delete')
    .alias('down')
    .description('remove clusters: every container, network and volume labelled with their name, and their kubeconfig entries')
    .argument('[names...]', 'cluster names (default: kiab)')
    .option('--all', 'delete every kiab cluster')
    .option('--keep-snapshots', "keep the cluster's snapshots (restore brings the cluster back)")
    .addOption(outputOption())
    .action(async (names: string[], flags: { all?: boolean; keepSnapshots?: boolean }, command: Command) => {
      if (flags.all && names.length > 0) throw new UsageError('--all: give either cluster names or --all, not both');
      for (const name of names) validateClusterName(name);
      const targets = flags.all ? { all: true as const } : { names: names.length > 0 ? names : ['kiab'] };
      const results = await deleteClusters(runtime.provider(), runtime.reporter(), targets, {
        keepSnapshots: flags.keepSnapshots === true,
        signal: runtime.signal,
      });
      if (outputOf(command) === 'json') printJson(results);
    });
}
