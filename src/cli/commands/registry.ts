import type { Command } from 'commander';
import { KiabError } from '../../errors.js';
import { clusterNameArgument, requireClusterStatus } from './shared.js';
import { printJson } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

export function registerRegistry(program: Command, runtime: Runtime): void {
  program
    .command('registry')
    .description('print where the cluster registry is, from the host and from inside machines')
    .addArgument(clusterNameArgument())
    .addOption(outputOption())
    .action(async (name: string, _flags: unknown, command: Command) => {
      const status = await requireClusterStatus(runtime, name);
      if (!status.registry) throw new KiabError(`cluster ${name} has no registry`, { hint: 'set registry.enabled: true in kiab.yaml when creating it' });
      if (outputOf(command) === 'json') return printJson(status.registry);
      const { host, fromMachines, fromClusterNetwork } = status.registry;
      process.stdout.write(
        [
          `from the host:      ${host}            docker push ${host}/app:tag`,
          `inside machines:    ${fromMachines}            ctr -n k8s.io images pull --hosts-dir /etc/containerd/certs.d ${fromMachines}/app:tag`,
          `on cluster network: ${fromClusterNetwork}`,
        ].join('\n') + '\n',
      );
    });
}
