import type { Command } from 'commander';
import { CLEAN_SNAPSHOT, listSnapshots, removeSnapshot, restoreSnapshot, saveSnapshot, validateSnapshotName } from '../../cluster/snapshot/snapshot.js';
import { KiabError } from '../../errors.js';
import { age, printJson, table } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';
import { printStatus } from './status.js';
import { validateClusterName } from './shared.js';

function defaultSnapshotName(): string {
  return `snap-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15).toLowerCase()}`;
}

export function registerSnapshot(program: Command, runtime: Runtime): void {
  const snapshot = program.command('snapshot').description('save and restore whole clusters in seconds');

  snapshot
    .command('save')
    .description('capture every machine (filesystem and volumes) at one instant; machines are paused meanwhile')
    .argument('[name]', 'cluster name', 'kiab')
    .argument('[snap]', 'snapshot name (default: snap-DATE-TIME)')
    .option('--force', 'replace a snapshot of the same name')
    .addOption(outputOption())
    .action(async (name: string, snap: string | undefined, flags: { force?: boolean }, command: Command) => {
      validateClusterName(name);
      const info = await saveSnapshot({
        provider: runtime.provider(),
        cluster: name,
        snapshot: validateSnapshotName(snap ?? defaultSnapshotName()),
        reporter: runtime.reporter(),
        signal: runtime.signal,
        ...(flags.force ? { force: true } : {}),
      });
      if (outputOf(command) === 'json') printJson(info);
      else process.stdout.write(`saved snapshot ${info.name} of ${info.cluster}: ${info.machines.length} machines\n`);
    });

  snapshot
    .command('restore')
    .description('bring every machine back to a snapshot (files written since are gone) and wait until it has booted')
    .argument('[name]', 'cluster name', 'kiab')
    .argument('[snap]', 'snapshot name', CLEAN_SNAPSHOT)
    .addOption(outputOption())
    .action(async (name: string, snap: string, _flags: unknown, command: Command) => {
      validateClusterName(name);
      const status = await restoreSnapshot({
        provider: runtime.provider(),
        cluster: name,
        snapshot: validateSnapshotName(snap),
        reporter: runtime.reporter(),
        signal: runtime.signal,
      });
      if (outputOf(command) === 'json') printJson(status);
      else printStatus(status);
    });

  snapshot
    .command('list')
    .alias('ls')
    .description('list snapshots')
    .argument('[name]', 'only this cluster')
    .addOption(outputOption())
    .action(async (name: string | undefined, _flags: unknown, command: Command) => {
      if (name !== undefined) validateClusterName(name);
      const provider = runtime.provider();
      await provider.ping();
      const snapshots = await listSnapshots(provider, name);
      if (outputOf(command) === 'json') return printJson(snapshots);
      if (snapshots.length === 0) return void process.stdout.write('no snapshots\n');
      process.stdout.write(
        `${table(
          ['Cluster', 'Snapshot', 'Machines', 'Age'],
          snapshots.map((info) => [info.cluster, info.name, info.machines.length, age(info.createdAt)]),
        )}\n`,
      );
    });

  snapshot
    .command('rm')
    .description('remove a snapshot')
    .argument('<name>', 'cluster name')
    .argument('<snap>', 'snapshot name')
    .action(async (name: string, snap: string) => {
      validateClusterName(name);
      const removed = await removeSnapshot({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        signal: runtime.signal,
        cluster: name,
        snapshot: validateSnapshotName(snap),
      });
      if (!removed) throw new KiabError(`cluster ${name} has no snapshot ${snap}`, { hint: 'see `kiab snapshot list`' });
    });

  program
    .command('reset')
    .description(`back to clean: restore the "${CLEAN_SNAPSHOT}" snapshot that up took`)
    .argument('[name]', 'cluster name', 'kiab')
    .addOption(outputOption())
    .action(async (name: string, _flags: unknown, command: Command) => {
      validateClusterName(name);
      const status = await restoreSnapshot({
        provider: runtime.provider(),
        cluster: name,
        snapshot: CLEAN_SNAPSHOT,
        reporter: runtime.reporter(),
        signal: runtime.signal,
      });
      if (outputOf(command) === 'json') printJson(status);
      else printStatus(status);
    });
}
