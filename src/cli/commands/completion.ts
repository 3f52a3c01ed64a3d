import { Argument, type Command } from 'commander';
import { listClusterNames, listMachines } from '../../cluster/lifecycle/observe.js';
import { listSnapshots } from '../../cluster/snapshot/snapshot.js';
import { readPackageFile } from '../../package-files.js';
import { complete, type CompletionSources } from '../complete.js';
import type { Runtime } from '../runtime.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** Names from the engine; an engine that cannot be reached offers none rather than an error mid-line. */
function engineSources(runtime: Runtime): CompletionSources {
  const quietly = async (names: () => Promise<string[]>): Promise<string[]> => names().catch(() => []);
  return {
    clusters: () => quietly(() => listClusterNames(runtime.provider())),
    nodes: (cluster) =>
      quietly(async () =>
        (await listMachines(runtime.provider(), cluster)).map((machine) => (cluster === undefined ? machine.name : `${machine.role}-${machine.index}`)),
      ),
    snapshots: (cluster) => quietly(async () => [...new Set((await listSnapshots(runtime.provider(), cluster)).map((snapshot) => snapshot.name))]),
  };
}

export function registerCompletion(program: Command, runtime: Runtime): void {
  program
    .command('completion')
    .description('print a shell completion script: `source <(kiab completion bash)`, e.g. in ~/.bashrc (zsh, fish alike)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: (typeof SHELLS)[number]) => {
      process.stdout.write(readPackageFile(`src/cli/files/kiab.${shell}`));
    });

  // What the scripts call on every Tab: the first line says `files` (let the shell complete file names) or
  // `words` (the candidates follow, one a line).
  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .helpOption(false)
    .action(async (words: string[]) => {
      const completion = await complete(program, words.length ? words : [''], engineSources(runtime));
      process.stdout.write(completion.files ? 'files\n' : ['words', ...completion.words].map((line) => `${line}\n`).join(''));
    });
}
