import { Option, type Command } from 'commander';
import { up } from '../../cluster/lifecycle/up.js';
import { loadSpec } from '../../spec/load.js';
import { parseDuration } from '../../spec/duration.js';
import { UsageError } from '../../errors.js';
import type { ClusterStatus } from '../../cluster/status.js';
import { isLoopbackAddress } from '../../net/ports.js';
import { ADDONS, DISTRIBUTIONS, type AddonName, type ClusterSpecInput, type DistributionName } from '../../spec/schema.js';
import { outputOf, outputOption, parseCount, type Runtime } from '../runtime.js';
import { printJson } from '../output.js';
import { printStatus } from './status.js';

interface UpFlags {
  config?: string;
  servers?: number;
  workers?: number;
  k8s?: DistributionName;
  k8sVersion?: string;
  wait?: string;
  /** A comma-separated list, or false for --no-addons. */
  addons?: string | false;
  snapshot: boolean;
  switch: boolean;
  apiAddress: 'localhost' | 'box' | 'lan';
  listenAddress?: string;
  lanParent?: string;
  lanAddress?: string;
}

const EXPOSED_NAMES: Record<string, string> = { api: 'API', registry: 'registry (no auth)', http: 'http', https: 'https' };

/** One line saying what a cluster published beyond loopback lets other machines reach; undefined when it published on loopback only. */
export function exposureNotice(status: ClusterStatus): string | undefined {
  const published = status.ports.filter((port) => port.host !== null && !isLoopbackAddress(port.host.split(':')[0]!));
  if (published.length === 0) return undefined;
  const address = published[0]!.host!.split(':')[0]!;
  const where = address === '0.0.0.0' ? 'every address of this host' : address;
  const named = (name: string): string => (name === 'registry' && status.registryLogin ? 'registry (login)' : (EXPOSED_NAMES[name] ?? name));
  const list = published.map((port) => `${named(port.name)} :${port.host!.split(':')[1]}`).join(', ');
  return `kiab: reachable from other machines on ${where}: ${list}; NodePorts only through \`kiab port add\`\n`;
}

/** One line saying what the box answers for on the LAN; undefined when the cluster is not on one. */
export function lanExposureNotice(status: ClusterStatus): string | undefined {
  if (!status.lan) return undefined;
  const { address, parent } = status.lan;
  const registry = status.registry ? `, registry (${status.registryLogin ? 'login' : 'no auth'}) :5000` : '';
  return `kiab: reachable from the LAN of ${parent} at ${address}: API :6443, http :80, https :443, NodePorts :30000-32767 (tcp and udp)${registry}; this host itself keeps using the loopback ports\n`;
}

export function registerUp(program: Command, runtime: Runtime): void {
  program
    .command('up')
    .description('create a cluster, or converge an existing one (start stopped machines, create missing ones)')
    .argument('[name]', 'cluster name (DNS-1123 label)')
    .option('-c, --config <file>', 'read settings from a kiab.yaml or a kind config (kind.x-k8s.io/v1alpha4) file (flags win)')
    .option('--servers <n>', 'number of server machines', parseCount('--servers', 1, 9))
    .option('--workers <n>', 'number of worker machines', parseCount('--workers', 0, 50))
    .addOption(new Option('--k8s <distribution>', 'what runs on the machines (default: kubeadm)').choices(DISTRIBUTIONS))
    .option('--k8s-version <version>', 'Kubernetes version for k3s or kubeadm')
    .option('--wait <duration>', 'how long to wait for the machines, e.g. 90s or 5m')
    .option('--addons <list>', `addons to run, comma-separated: ${ADDONS.join(', ')} (default: all, where there is Kubernetes)`)
    .option('--no-addons', 'run no addons')
    .option('--no-snapshot', 'do not take the "clean" snapshot that `kiab reset` returns to')
    .option('--no-switch', 'merge the kubeconfig without switching the current context')
    .addOption(
      new Option(
        '--api-address <where>',
        'API server address in the kubeconfig: the published loopback port, the box address, or the box on the LAN (--lan-address, port 6443)',
      )
        .choices(['localhost', 'box', 'lan'])
        .default('localhost'),
    )
    .option('--listen-address <address>', 'host address to publish the ports on instead of 127.0.0.1 (0.0.0.0: every address)')
    .option('--lan-parent <link>', "put the box on the LAN of this link of the engine's host (macvlan), with --lan-address")
    .option(
      '--lan-address <address/prefix>',
      "the box's address on that LAN, such as 192.168.1.240/24: API 6443, 80, 443, NodePorts and registry 5000 answer there",
    )
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: UpFlags, command: Command) => {
      if (flags.wait !== undefined && parseDuration(flags.wait) === undefined)
        throw new UsageError(`--wait: "${flags.wait}" is not a duration such as 90s, 5m or 1h30m`);
      const input: ClusterSpecInput = {
        ...(name !== undefined ? { name } : {}),
        ...(flags.servers !== undefined ? { servers: flags.servers } : {}),
        ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        ...(flags.k8s !== undefined ? { distribution: flags.k8s } : {}),
        ...(flags.k8sVersion !== undefined ? { kubernetesVersion: flags.k8sVersion } : {}),
        ...(flags.wait !== undefined ? { wait: flags.wait } : {}),
        // Checked by the spec schema, which names the flag.
        ...(flags.listenAddress !== undefined ? { ports: { address: flags.listenAddress } } : {}),
        // Either half may come from kiab.yaml; one missing everywhere is refused by the spec schema, naming its flag.
        ...(flags.lanParent !== undefined || flags.lanAddress !== undefined
          ? {
              network: {
                lan: {
                  ...(flags.lanParent !== undefined ? { parent: flags.lanParent } : {}),
                  ...(flags.lanAddress !== undefined ? { address: flags.lanAddress } : {}),
                } as never,
              },
            }
          : {}),
        // Names are checked by the spec schema, which says which one is unknown.
        ...(flags.addons !== undefined ? { addons: flags.addons === false ? [] : (flags.addons.split(',').map((name) => name.trim()) as AddonName[]) } : {}),
      };
      const { spec, given } = await loadSpec({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), flags: input });
      if (flags.apiAddress === 'lan' && !spec.network.lan)
        throw new UsageError(
          '--api-address lan: the cluster has no LAN address',
          'give --lan-parent IFACE --lan-address ADDR/PREFIX (or network.lan in kiab.yaml)',
        );
      const status = await up({
        provider: runtime.provider(),
        spec,
        given,
        reporter: runtime.reporter(),
        signal: runtime.signal,
        snapshot: flags.snapshot,
        kubeconfig: { switchContext: flags.switch, apiAddress: flags.apiAddress },
      });
      if (outputOf(command) === 'json') printJson(status);
      else printStatus(status);
      const notice = exposureNotice(status);
      if (notice) process.stderr.write(notice);
      const lanNotice = lanExposureNotice(status);
      if (lanNotice) process.stderr.write(lanNotice);
    });
}
