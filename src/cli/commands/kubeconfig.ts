import { Option, type Command } from 'commander';
import { kubeconfigOf, writeKubeconfigOf } from '../../cluster/kubernetes/kubeconfig.js';
import type { ApiAddress } from '../../cluster/kubernetes/user-kubeconfig.js';
import { clusterNameArgument } from './shared.js';
import type { Runtime } from '../runtime.js';

export function registerKubeconfig(program: Command, runtime: Runtime): void {
  program
    .command('kubeconfig')
    .description("print the cluster's kubeconfig, or write it to a file (mode 0600)")
    .addArgument(clusterNameArgument())
    .option('--write <path>', 'merge it into this file instead of printing it')
    .option('--no-switch', 'with --write: do not switch the current context')
    .addOption(
      new Option('--api-address <where>', 'API server address: the published loopback port, or the box address')
        .choices(['localhost', 'box'])
        .default('localhost'),
    )
    .action(async (name: string, flags: { write?: string; switch: boolean; apiAddress: ApiAddress }) => {
      if (!flags.write) return void process.stdout.write((await kubeconfigOf(runtime.provider(), name, flags.apiAddress)).kubeconfig);
      const written = await writeKubeconfigOf(runtime.provider(), name, { path: flags.write, switchContext: flags.switch, apiAddress: flags.apiAddress });
      process.stderr.write(`wrote context ${written.context} to ${written.path}\n`);
    });
}
