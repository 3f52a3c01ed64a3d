import { spawn } from 'node:child_process';
import { AbortedError, KiabError, RunError } from './errors.js';

export interface ProcessOptions {
  /** Each non-empty line of stdout and stderr as it arrives, for progress. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** What the command does, for the error. */
  what?: string;
  /** What to do when it fails. */
  hint?: string;
  /** The error when the program cannot be started at all (not installed). */
  missing?: { message: string; hint: string };
  /** Exit statuses besides 0 that are an answer rather than a failure (a test runner's "some tests failed"). */
  okStatuses?: number[];
  /**
   * For a program with children of its own (a test runner): it runs in a process group of its own, and Ctrl-C
   * sends SIGINT to the whole group, as a terminal would, then SIGKILL after this many ms if it is still there.
   * The group is killed too if kiab exits while it runs.
   */
  interruptGraceMs?: number;
}

/** Signals a whole process group, which may be gone already. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}

/**
 * Runs a program on the host and resolves to its stdout. A non-zero exit throws a RunError with the tail of
 * its output; Ctrl-C kills it and throws AbortedError.
 */
export function runProcess(command: string, args: string[], options: ProcessOptions = {}): Promise<string> {
  const grace = options.interruptGraceMs;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(grace === undefined ? (options.signal ? { signal: options.signal } : {}) : { detached: true }),
    });
    if (grace !== undefined) {
      const killGroup = (): void => signalGroup(child.pid, 'SIGKILL');
      const interrupt = (): void => {
        signalGroup(child.pid, 'SIGINT');
        setTimeout(killGroup, grace).unref();
      };
      if (options.signal?.aborted) interrupt();
      options.signal?.addEventListener('abort', interrupt, { once: true });
      process.once('exit', killGroup);
      child.once('close', () => {
        options.signal?.removeEventListener('abort', interrupt);
        process.removeListener('exit', killGroup);
      });
    }
    let stdout = '';
    let tail = '';
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      if (options.onLine) for (const line of text.split('\n')) if (line.trim()) options.onLine(line.trim());
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      collect(chunk);
    });
    child.stderr.on('data', collect);
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (options.signal?.aborted) return reject(new AbortedError());
      if (error.code === 'ENOENT' && options.missing) return reject(new KiabError(options.missing.message, { hint: options.missing.hint, cause: error }));
      reject(new KiabError(`cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code) => {
      if (options.signal?.aborted) return reject(new AbortedError());
      if (code === 0 || (code !== null && options.okStatuses?.includes(code))) return resolve(stdout);
      reject(
        new RunError({
          where: 'host',
          command: [command, ...args].join(' '),
          status: code ?? -1,
          output: tail,
          ...(options.what ? { what: options.what } : {}),
          ...(options.hint ? { hint: options.hint } : {}),
        }),
      );
    });
  });
}
