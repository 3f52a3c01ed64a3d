import { Option, type Command } from 'commander';
import { DEFAULT_FOCUS, runConformance } from '../../cluster/conformance/conformance.js';
import { UsageError } from '../../errors.js';
import { formatDuration, parseDuration } from '../../spec/duration.js';
import { printJson } from '../output.js';
import { outputOf, outputOption, parseCount, type Runtime } from '../runtime.js';
import { clusterNameArgument } from './shared.js';

/** A Go regular expression can hardly be checked here; an empty one would select every spec of the suite. */
function regex(flag: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new UsageError(`${flag}: must not be empty`);
    return value;
  };
}

function parseTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new UsageError(`--timeout: "${value}" is not a duration such as 90m or 2h`);
  return ms;
}

export function registerConformance(program: Command, runtime: Runtime): void {
  program
    .command('conformance')
    .description("run Kubernetes' conformance suite against the cluster, offline (its assets: `kiab assets pull|build --k8s kubeadm --conformance`)")
    .addArgument(clusterNameArgument())
    .option('--focus <regex>', 'specs whose name matches (Go regular expression)', DEFAULT_FOCUS)
    .option('--skip <regex>', 'leave out specs whose name matches', regex('--skip'))
    .option('--parallel <n>', 'specs that run at once in the parallel pass ([Serial] ones always run alone)', parseCount('--parallel', 1, 32), 4)
    .addOption(new Option('--timeout <duration>', 'for the whole run').argParser(parseTimeout).default(parseTimeout('6h'), '6h'))
    .option('--report-dir <path>', 'where the JUnit and JSON reports go (default: a new folder here)')
    .addOption(outputOption())
    .action(async (name: string, flags: { focus: string; skip?: string; parallel: number; timeout: number; reportDir?: string }, command: Command) => {
      const summary = await runConformance({
        provider: runtime.provider(),
        reporter: runtime.reporter(),
        cluster: name,
        focus: regex('--focus')(flags.focus),
        parallel: flags.parallel,
        timeoutMs: flags.timeout,
        signal: runtime.signal,
        ...(flags.skip ? { skip: flags.skip } : {}),
        ...(flags.reportDir ? { reportDir: flags.reportDir } : {}),
      });
      process.exitCode = summary.failed > 0 ? 1 : 0;
      if (outputOf(command) === 'json') return printJson(summary);
      const lines = [
        `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped in ${formatDuration(summary.durationSeconds * 1000)}`,
        ...summary.failures.map((failure) => `  ✗ ${failure.spec}: ${failure.message.split('\n')[0] ?? ''}`),
        `reports: ${summary.reportDir}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
