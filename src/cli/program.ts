import { Command } from 'commander';
import { kiabVersion } from '../version.js';
import type { Runtime } from './runtime.js';
import { registerAssets } from './commands/assets.js';
import { registerConformance } from './commands/conformance.js';
import { registerConfig } from './commands/config.js';
import { registerCompletion } from './commands/completion.js';
import { registerDelete } from './commands/delete.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEngines } from './commands/engines.js';
import { registerKubeconfig } from './commands/kubeconfig.js';
import { registerExec } from './commands/exec.js';
import { registerImage } from './commands/image.js';
import { registerList } from './commands/list.js';
import { registerNode } from './commands/node.js';
import { registerPort } from './commands/port.js';
import { registerRegistry } from './commands/registry.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerStatus } from './commands/status.js';
import { registerUp } from './commands/up.js';
import { registerUpgrade } from './commands/upgrade.js';

/** Commander's own usage errors exit 2 with a single line; so do kiab's UsageErrors. */
function configure(command: Command): void {
  command.exitOverride();
  command.showSuggestionAfterError(true);
  command.configureOutput({
    outputError: (text, write) =>
      write(
        `kiab: ${text
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*/g, ' ')}\n`,
      ),
  });
  for (const child of command.commands) configure(child);
}

/** Every command kiab has, ready to parse: the one tree `main` runs and completion walks. */
export function buildProgram(runtime: Runtime): Command {
  const program = new Command('kiab')
    .description('Kube in a Box: disposable multi-node clusters of systemd machine containers')
    .version(kiabVersion, '-v, --version')
    .option('--verbose', 'print the cause chain of errors (accepted anywhere)')
    .option('--timings', 'print each phase of a step with its duration (accepted anywhere)')
    .enablePositionalOptions();
  registerUp(program, runtime);
  registerList(program, runtime);
  registerStatus(program, runtime);
  registerDelete(program, runtime);
  registerUpgrade(program, runtime);
  registerNode(program, runtime);
  registerPort(program, runtime);
  registerExec(program, runtime);
  registerImage(program, runtime);
  registerRegistry(program, runtime);
  registerSnapshot(program, runtime);
  registerAssets(program, runtime);
  registerKubeconfig(program, runtime);
  registerDoctor(program, runtime);
  registerEngines(program);
  registerConformance(program, runtime);
  registerConfig(program, runtime);
  registerCompletion(program, runtime);
  configure(program);
  return program;
}
