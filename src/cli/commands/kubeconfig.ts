import { Option, type Command } from 'commander';
import { kubeconfigOf, writeKubeconfigOf } from '../../cluster/kubernetes/kubeconfig.js';
import type { ApiAddress } from '../../cluster/kubernetes/user-kubeconfig.js';
import { UsageError } from '../../errors.js';
import { clusterNameArgument } from './shared.js';
import type { Runtime } from '../runtime.js';

/** A host name or an IPv4 address, as it goes into the server URL. */
function serverAddress(value: string): string {
  if (!/^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/.test(value)) throw new UsageError(`--server-address: "${value}" is not a host name or an IPv4 address`);
  return value;
}

export function registerKubeconfig(program: Command, runtime: Runtime): void {
  program
    .command('kubeconfig')
    .description("print the cluster's kubeconfig, or write it to a file (mode 0600)")
    .addArgument(clusterNameArgument())
    .option('--write <path>', 'merge it into this file instead of printing it')
    .option('--no-switch', 'with --write: do not switch the current context')
    .addOption(
      new Option(
        '--api-address <where>',
        'API server address: the published loopback port, the box address, or the box on the LAN (up --lan-address, port 6443)',
      )
        .choices(['localhost', 'box', 'lan'])
        .default('localhost'),
    )
    .addOption(
      new Option(
        '--server-address <host>',
        "this host's name or address as another machine reaches it, with the published API port: a kubeconfig for a teammate (needs up --listen-address)",
      )
        .argParser(serverAddress)
        .conflicts('apiAddress'),
    )
    .action(async (name: string, flags: { write?: string; switch: boolean; apiAddress: 'localhost' | 'box' | 'lan'; serverAddress?: string }) => {
      const apiAddress: ApiAddress = flags.serverAddress ? { server: flags.serverAddress } : flags.apiAddress;
      if (!flags.write) return void process.stdout.write((await kubeconfigOf(runtime.provider(), name, apiAddress)).kubeconfig);
      const written = await writeKubeconfigOf(runtime.provider(), name, { path: flags.write, switchContext: flags.switch, apiAddress });
      process.stderr.write(`wrote context ${written.context} to ${written.path}\n`);
    });
}
