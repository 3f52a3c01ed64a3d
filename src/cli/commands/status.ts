import { Option, type Command } from 'commander';
import type { ClusterStatus, PortBackend, PortForward } from '../../cluster/status.js';
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../spec/duration.js';
import { clusterNameArgument, requireClusterStatus } from './shared.js';
import { age, printJson, table, uptime } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';
import { watch } from '../watch.js';

const SHOWN_HEALTH: Record<PortBackend['health'], string> = { up: 'up', down: 'DOWN', unchecked: '', maintenance: 'maint', unknown: '?' };

/** `server-0 up, server-1 DOWN`: each backend by its short name with its health as the box's load balancer sees it. */
function destination(cluster: string, port: PortForward): string {
  if (port.via === 'box') return 'registry in the box';
  const short = (machine: string): string => machine.replace(`kiab-${cluster}-`, '');
  const list = port.backends.map((backend) => `${short(backend.machine)}${SHOWN_HEALTH[backend.health] ? ` ${SHOWN_HEALTH[backend.health]}` : ''}`).join(', ');
  return port.via === 'forward' ? `${list} (forwarded)` : list || '-';
}

/** juju-status-like view: the cluster, its machines, and what the box forwards where. */
export function printStatus(status: ClusterStatus): void {
  process.stdout.write(`${formatStatus(status)}\n`);
}

function formatStatus(status: ClusterStatus): string {
  const lines: string[] = [];
  lines.push(
    table(
      ['Cluster', 'State', 'Address', 'Distribution', 'Version', 'Registry', 'Age'],
      [[status.name, status.state, status.address, status.distribution, status.kubernetesVersion, status.registry?.host ?? null, age(status.createdAt)]],
    ),
  );
  if (status.lan) {
    const { address, parent, joined } = status.lan;
    lines.push(`LAN ${address} on ${parent}${joined ? '' : '  (the box has not joined it)'}: API, 80, 443, NodePorts and the registry at their box ports`);
  }
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
        ['Port', 'Host', 'Box', 'Goes to'],
        status.ports.map((port) => [port.name, port.host, port.box, destination(status.name, port)]),
      ),
    );
  }
  return lines.join('\n');
}

function parseInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000 || ms > 3_600_000) throw new UsageError(`--interval: "${value}" must be a duration from 1s to 1h, such as 2s`);
  return ms;
}

export function registerStatus(program: Command, runtime: Runtime): void {
  program
    .command('status')
    .description('show a cluster: its state, machines and forwarded ports')
    .addArgument(clusterNameArgument())
    .addOption(outputOption())
    .option('-w, --watch', 'refresh until Ctrl-C (exit 0): in place on a terminal, each refresh in full otherwise, one JSON document per line with -o json')
    .addOption(new Option('--interval <duration>', 'time between refreshes with --watch').argParser(parseInterval).default(2000, '2s'))
    .action(async (name: string, flags: { watch?: boolean; interval: number }, command: Command) => {
      if (command.getOptionValueSource('interval') === 'cli' && !flags.watch) throw new UsageError('--interval: only with --watch');
      const json = outputOf(command) === 'json';
      // A cluster that is not there is an error before the watch starts; once watching, it is shown like any change.
      const status = await requireClusterStatus(runtime, name);
      if (!flags.watch) return json ? printJson(status) : printStatus(status);
      let pending: ClusterStatus | undefined = status;
      runtime.endsOnInterrupt();
      await watch({
        title: `kiab status ${name}`,
        interval: flags.interval,
        mode: json ? 'lines' : process.stdout.isTTY ? 'redraw' : 'append',
        signal: runtime.signal,
        frame: async () => {
          const shown = pending ?? (await requireClusterStatus(runtime, name));
          pending = undefined;
          return json ? JSON.stringify(shown) : formatStatus(shown);
        },
      });
    });
}
