import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadSpec } from '../../spec/load.js';
import type { Runtime } from '../runtime.js';

export function registerConfig(program: Command, _runtime: Runtime): void {
  const config = program.command('config').description('read and convert cluster configuration files');
  config
    .command('convert')
    .description('print the kiab.yaml that a kind config (kind.x-k8s.io/v1alpha4 Cluster) stands for; a field kiab cannot honour is refused by its path')
    .argument('<file>', 'the kind config file')
    .action(async (file: string) => {
      const { fromFile } = await loadSpec({ configPath: file });
      process.stdout.write(`# kiab.yaml from ${file}\n${stringify(fromFile)}`);
    });
}
