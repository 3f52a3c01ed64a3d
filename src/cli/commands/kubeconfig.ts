import { Option, type Command } from 'commander';
import { distributionFor } from '../../distribution/index.js';
import { clusterNames } from '../../cluster/names.js';
import { observeCluster } from '../../cluster/observe.js';
import { observedSubnet, distributionContext, type ClusterContext } from '../../cluster/context.js';
import { apiServerUrl, readUserKubeconfig, writeUserKubeconfig, type ApiAddress } from '../../cluster/kubernetes.js';
import { nodeImageOf } from '../../cluster/topology.js';
import { boxAddress, machineAddress } from '../../net/addresses.js';
import { KiabError } from '../../errors.js';
import { clusterNameArgument } from './shared.js';
import type { Runtime } from '../runtime.js';

export function registerKubeconfig(program: Command, runtime: Runtime): void {
  program
    .command('kubeconfig')
    .description('print the cluster\'s kubeconfig, or write it to a file (mode 0600)')
    .addArgument(clusterNameArgument())
    .option('--write <path>', 'merge it into this file instead of printing it')
    .option('--no-switch', 'with --write: do not switch the current context')
    .addOption(new Option('--api-address <where>', 'API server address: the published loopback port, or the box address').choices(['localhost', 'box']).default('localhost'))
    .action(async (name: string, flags: { write?: string; switch: boolean; apiAddress: ApiAddress }) => {
      const provider = runtime.provider();
      await provider.ping();
      const observed = await observeCluster(provider, name);
      const subnet = observedSubnet(observed);
      if (!observed.spec || !observed.ports || !subnet) throw new KiabError(`cluster ${name} does not exist`, { hint: `create it with \`kiab up ${name}\`` });
      const distribution = distributionFor(observed.spec.distribution);
      if (!distribution.kubernetes) throw new KiabError(`cluster ${name} runs no Kubernetes (distribution ${distribution.name})`, { hint: 'create one with --k8s kubeadm' });
      const names = clusterNames(name);
      const context: ClusterContext = { provider, spec: observed.spec, names, subnet, ports: observed.ports, distribution, nodeImage: nodeImageOf(observed.spec) };
      const machines = observed.machines.map((machine) => ({ name: machine.container.name, role: machine.role, index: machine.index, ip: machineAddress(subnet, machine.role, machine.index) }));
      const kubeconfig = await readUserKubeconfig(distribution, distributionContext(context, machines, () => undefined), names, apiServerUrl(observed.ports, boxAddress(subnet), flags.apiAddress));
      if (flags.write) {
        const path = await writeUserKubeconfig(kubeconfig, { path: flags.write, switchContext: flags.switch, apiAddress: flags.apiAddress });
        process.stderr.write(`wrote context ${names.kubeContext} to ${path}\n`);
      } else {
        process.stdout.write(kubeconfig);
      }
    });
}
