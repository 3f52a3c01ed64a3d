import { RunError, redact } from '../errors.js';
import type { ExecOptions, ExecResult, Provider } from './types.js';

export interface RunOptions extends ExecOptions {
  /** What the command does, for the error ("kubeadm join"); the command itself otherwise. */
  what?: string;
  /** Values that must never reach an error message (tokens, keys). */
  secrets?: string[];
  hint?: string;
}

/** Runs a command in a machine and returns its result whatever the exit code: for checks where failure is an answer. */
export function tryRun(provider: Provider, machine: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return provider.exec(machine, command, options);
}

/** Runs a command in a machine; a non-zero exit throws a RunError with the command (secrets redacted) and its output's tail. */
export async function run(provider: Provider, machine: string, command: string[], options: RunOptions = {}): Promise<ExecResult> {
  const { what, secrets = [], hint, ...exec } = options;
  const result = await provider.exec(machine, command, exec);
  if (result.exitCode === 0) return result;
  throw new RunError({
    where: machine,
    command: redact(command.join(' '), secrets),
    status: result.exitCode,
    output: redact(`${result.stderr}\n${result.stdout}`, secrets),
    ...(what === undefined ? {} : { what }),
    ...(hint === undefined ? {} : { hint }),
  });
}

/** Whether `path` exists in the machine. */
export async function fileExists(provider: Provider, machine: string, path: string): Promise<boolean> {
  return (await tryRun(provider, machine, ['test', '-e', path])).exitCode === 0;
}
