import { Argument, Option, type Command } from 'commander';
import { addPort, listPorts, removePort, type PublishedPortRow } from '../../cluster/ports/ports.js';
import { UsageError } from '../../errors.js';
import { isListenAddress, parsePortMapping, parsePortTarget, type PortMapping } from '../../net/added-ports.js';
import { isLoopbackAddress } from '../../net/ports.js';
import { printJson, table } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';
import { validateClusterName } from './shared.js';

function mapping(value: string): PortMapping {
  const parsed = parsePortMapping(value);
  if (typeof parsed === 'string') throw new UsageError(`HOSTPORT:TARGETPORT: ${parsed}`);
  return parsed;
}

function listenAddress(value: string): string {
  if (!isListenAddress(value)) throw new UsageError(`--listen: "${value}" is not an IPv4 address such as 127.0.0.1 or 0.0.0.0`);
  return value;
}

/** HOSTPORT or HOSTPORT/udp, as `port rm` takes it. */
function hostPortOf(value: string): { hostPort: number; protocol?: 'tcp' | 'udp' } {
  const match = /^(\d+)(?:\/(tcp|udp))?$/.exec(value);
  const hostPort = Number(match?.[1]);
  if (!match || !(hostPort >= 1 && hostPort <= 65535)) throw new UsageError(`HOSTPORT: "${value}" is not a port 1-65535, optionally with /tcp or /udp`);
  return match[2] ? { hostPort, protocol: match[2] as 'tcp' | 'udp' } : { hostPort };
}

function printRows(rows: PublishedPortRow[]): void {
  process.stdout.write(
    `${table(
      ['Port', 'Host', 'Protocol', 'Target', 'To', 'Box'],
      rows.map((row) => [row.name, row.host, row.protocol, row.target, row.to, row.box]),
    )}\n`,
  );
}

const clusterArgument = (): Argument => new Argument('<name>', 'cluster name').argParser((value: string) => validateClusterName(value));

export function registerPort(program: Command, runtime: Runtime): void {
  const port = program.command('port').description("add, remove and list the host ports a cluster's box publishes, without touching a machine");
  const emit = (command: Command, rows: PublishedPortRow[]): void => (outputOf(command) === 'json' ? printJson(rows) : printRows(rows));

  port
    .command('add')
    .description('publish one more host port, going to a port of the machines (a NodePort, a hostPort)')
    .addArgument(clusterArgument())
    .addArgument(new Argument('<mapping>', 'HOSTPORT:TARGETPORT, with /tcp (the default) or /udp').argParser(mapping))
    .addOption(
      new Option(
        '--listen <address>',
        "host address to publish on (default: the cluster's, 127.0.0.1 unless up was given --listen-address; 0.0.0.0 for every address)",
      ).argParser(listenAddress),
    )
    .addOption(new Option('--to <machines>', 'where it goes: workers (every worker), servers, or one machine such as worker-0').default('workers'))
    .addOption(outputOption())
    .action(async (name: string, wanted: PortMapping, flags: { listen?: string; to: string }, command: Command) => {
      const row = await addPort({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        signal: runtime.signal,
        cluster: name,
        mapping: wanted,
        to: parsePortTarget(flags.to),
        ...(flags.listen ? { listen: flags.listen } : {}),
      });
      emit(command, [row]);
      const [address] = row.host.split(':');
      if (!isLoopbackAddress(address!)) {
        process.stderr.write(
          `kiab: port ${row.host}/${row.protocol} is reachable from other machines${address === '0.0.0.0' ? ' on every address of this host' : ''}\n`,
        );
      }
    });

  port
    .command('rm')
    .description('stop publishing an added host port (both protocols unless one is given)')
    .addArgument(clusterArgument())
    .addArgument(new Argument('<hostport>', 'HOSTPORT, or HOSTPORT/tcp or HOSTPORT/udp').argParser(hostPortOf))
    .addOption(outputOption())
    .action(async (name: string, which: { hostPort: number; protocol?: 'tcp' | 'udp' }, _flags: unknown, command: Command) => {
      const rows = await removePort({ provider: runtime.provider(), reporter: runtime.reporter(), signal: runtime.signal, cluster: name, ...which });
      if (outputOf(command) === 'json') printJson(rows);
    });

  port
    .command('ls')
    .description('list every host port the cluster publishes: those made with it and those added')
    .addArgument(clusterArgument())
    .addOption(outputOption())
    .action(async (name: string, _flags: unknown, command: Command) => {
      emit(command, await listPorts({ provider: runtime.provider(), signal: runtime.signal, cluster: name }));
    });
}
