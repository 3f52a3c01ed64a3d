import type { Command } from 'commander';
import { swarmOf } from '../../cluster/engine.js';
import { joinEngines, type JoinOutcome } from '../../cluster/engines/join.js';
import { UsageError } from '../../errors.js';
import { loadSpec } from '../../spec/load.js';
import { printJson } from '../output.js';
import { outputOf, outputOption } from '../runtime.js';

const SAID: Record<JoinOutcome['did'], string> = {
  'made manager': 'made the manager of a new swarm',
  joined: 'joined the swarm as a worker',
  'was a member': 'was a member already',
};

export function registerEngines(program: Command): void {
  const engines = program.command('engines').description('the Docker engines a cluster spreads over (engines in kiab.yaml)');

  engines
    .command('join')
    .description(
      'make the engines kiab.yaml lists members of one swarm: the first that manages one keeps it (else the first engine starts one), the others join as workers; an engine in another swarm is left alone',
    )
    .requiredOption('-c, --config <file>', 'the kiab.yaml that lists the engines')
    .addOption(outputOption())
    .action(async (flags: { config: string }, command: Command) => {
      const { spec } = await loadSpec({ configPath: flags.config });
      if (!spec.engines) throw new UsageError(`--config: ${flags.config} lists no engines`, 'add an engines list (see docs/configuration.md#several-engines)');
      const outcomes = await joinEngines(spec.engines, swarmOf);
      if (outputOf(command) === 'json') return printJson(outcomes);
      process.stdout.write(outcomes.map((outcome) => `engine ${outcome.engine}: ${SAID[outcome.did]}\n`).join(''));
    });
}
