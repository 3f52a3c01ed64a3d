import type { Command } from 'commander';
import { upgradeCluster } from '../../cluster/lifecycle/upgrade.js';
import { printJson } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';
import { clusterNameArgument } from './shared.js';
import { printStatus } from './status.js';

export function registerUpgrade(program: Command, runtime: Runtime): void {
  program
    .command('upgrade')
    .description('upgrade a kubeadm cluster in place to the next Kubernetes minor (or a newer patch), machine by machine, after a snapshot to go back to')
    .addArgument(clusterNameArgument())
    .requiredOption('--k8s-version <version>', 'the release to upgrade to: v1.37.2, or a minor such as 1.37 for its newest patch kiab knows')
    .addOption(outputOption())
    .action(async (name: string, flags: { k8sVersion: string }, command: Command) => {
      const result = await upgradeCluster({
        provider: runtime.provider(),
        name,
        version: flags.k8sVersion,
        reporter: runtime.reporter(),
        signal: runtime.signal,
      });
      if (outputOf(command) === 'json') return printJson(result);
      printStatus(result.status);
      // The same release: the machines a node entry kept on an older one were brought to it.
      const done = result.from === result.to ? `brought every machine of ${name} to ${result.to}` : `upgraded ${name} from ${result.from} to ${result.to}`;
      process.stdout.write(
        result.changed
          ? `${done}; \`kiab snapshot restore ${name} ${result.snapshot}\` goes back.\n` +
              `\`kiab reset ${name}\` returns to the snapshot ${result.resetReturnsTo}; to make it return to ${result.to}, \`kiab snapshot save ${name} clean --force\` on a cluster in the state to keep.\n`
          : `${name} runs ${result.to} already; nothing to do.\n`,
      );
    });
}
