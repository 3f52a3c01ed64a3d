import type { Command } from 'commander';
import type { ClusterStatus } from '../../cluster/status.js';
import { clusterNameArgument, requireClusterStatus } from './shared.js';
import { age, printJson, table, uptime } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

/** juju-status-like view: the cluster, its machines, and what the box forwards where. */
export function printStatus(status: ClusterStatus): void {
  const lines: string[] = [];
  lines.push(
    table(
      ['Cluster', 'State', 'Address', 'Distribution', 'Registry', 'Age'],
      [[status.name, status.state, status.address, status.distribution, status.registry?.host ?? null, age(status.createdAt)]],
    ),
  );
  if (status.kubernetes) {
    lines.push(`API ${status.kubernetes.apiServer ?? '-'}  context ${status.kubernetes.context}${status.kubernetes.reachable ? '' : '  (API not answering)'}`);
  }
  lines.push('');
  const k8s = status.kubernetes !== undefined;
  const k8sColumns = (node: ClusterStatus['nodes'][number]): Array<string | number | null> =>
    k8s
      ? [node.kubernetes ? (node.kubernetes.ready ? 'Ready' : 'NotReady') : null, node.kubernetes?.kubeletVersion ?? null, node.kubernetes?.pods ?? null]
      : [];
  lines.push(
    table(
      ['Node', 'Role', 'State', 'System', 'IP', 'Uptime', 'Failed units', ...(k8s ? ['Kubernetes', 'Kubelet', 'Pods'] : [])],
      [
        [status.box.name, 'box', status.box.state, null, status.box.ip, null, null, ...(k8s ? [null, null, null] : [])],
        ...status.nodes.map((node) => [
          node.name,
          node.role,
          node.state,
          `${node.system ?? '-'}${node.outdated ? ' (outdated)' : ''}`,
          node.ip,
          uptime(node.uptimeSeconds),
          node.failedUnits.join(',') || null,
          ...k8sColumns(node),
        ]),
      ],
    ),
  );
  if (status.addons?.length) {
    lines.push('');
    lines.push(
      table(
        ['Addon', 'Provided by', 'Ready'],
        status.addons.map((addon) => [
          addon.name,
          addon.component,
          addon.ready === null ? 'unknown' : addon.ready ? 'yes' : `no: ${addon.problem ?? 'not ready'}`,
        ]),
      ),
    );
  }
  if (status.ports.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['Port', 'Host', 'Box', 'Forwards to'],
        status.ports.map((port) => [port.name, port.host, port.box, port.target]),
      ),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerStatus(program: Command, runtime: Runtime): void {
  program
    .command('status')
    .description('show a cluster: its state, machines and forwarded ports')
    .addArgument(clusterNameArgument())
    .addOption(outputOption())
    .action(async (name: string, _flags: unknown, command: Command) => {
      const status = await requireClusterStatus(runtime, name);
      if (outputOf(command) === 'json') printJson(status);
      else printStatus(status);
    });
}
