import type { Command } from 'commander';
import { deleteCluster } from '../../cluster/delete.js';
import { clusterNames } from '../../cluster/names.js';
import { listClusterNames } from '../../cluster/observe.js';
import { UsageError } from '../../errors.js';
import { defaultKubeconfigPath, removeKubeconfigEntries } from '../../kubeconfig/index.js';
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
    .option('--keep-snapshots', 'keep the cluster\'s snapshots (restore brings the cluster back)')
    .addOption(outputOption())
    .action(async (names: string[], flags: { all?: boolean; keepSnapshots?: boolean }, command: Command) => {
      if (flags.all && names.length > 0) throw new UsageError('--all: give either cluster names or --all, not both');
      for (const name of names) validateClusterName(name);
      const provider = runtime.provider();
      await provider.ping();
      const targets = flags.all ? await listClusterNames(provider) : names.length > 0 ? names : ['kiab'];
      const reporter = runtime.reporter();
      const results = [];
      for (const name of targets) {
        const step = reporter.step(`delete ${name}`);
        const result = await deleteCluster(provider, name, { keepSnapshots: flags.keepSnapshots === true });
        const context = clusterNames(name).kubeContext;
        const kubeconfig = await removeKubeconfigEntries(defaultKubeconfigPath(), { cluster: context, user: context, context });
        step.done(result.containers + result.networks + result.volumes + result.snapshots === 0 ? 'nothing to remove' : `${result.containers} containers, ${result.networks} networks, ${result.volumes} volumes, ${result.snapshots} snapshots`);
        results.push({ ...result, kubeconfigEntriesRemoved: kubeconfig });
      }
      if (outputOf(command) === 'json') printJson(results);
    });
}
