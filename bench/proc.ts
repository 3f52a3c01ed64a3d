// Processes for the bench: argument arrays only, never a shell string.
import { spawn } from 'node:child_process';
import { kiab, run, type Run } from '../test/e2e/helpers.js';

/** Runs kiab (the built CLI) or any other command, and throws with its stderr when it fails. */
export async function must(command: string, args: string[]): Promise<string> {
  const result = command === 'kiab' ? await kiab(args) : await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

/** Like must, but a failure is only reported back (for cleanup and probes). */
export function attempt(command: string, args: string[]): Promise<Run> {
  return command === 'kiab' ? kiab(args) : run(command, args);
}

export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/**
 * `FROM... | TO...` without a shell: two spawned processes, the first one's stdout piped into the second
 * one's stdin. Resolves with the bytes that went through; rejects when either side fails.
 */
export function pipe(from: [string, string[]], to: [string, string[]], timeoutMs = 300_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const source = spawn(from[0], from[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    const sink = spawn(to[0], to[1], { stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = 0;
    const errors = { source: '', sink: '' };
    const codes: { source?: number; sink?: number } = {};
    source.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    source.stderr.on('data', (chunk: Buffer) => (errors.source += chunk.toString()));
    sink.stderr.on('data', (chunk: Buffer) => (errors.sink += chunk.toString()));
    sink.stdout.resume();
    // A sink that dies early makes the source's writes fail with EPIPE: reported through the exit codes.
    sink.stdin.on('error', () => undefined);
    source.stdout.pipe(sink.stdin);
    const timer = setTimeout(() => {
      source.kill('SIGKILL');
      sink.kill('SIGKILL');
    }, timeoutMs);
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      source.kill('SIGKILL');
      sink.kill('SIGKILL');
      reject(error);
    };
    const settle = (): void => {
      if (codes.source === undefined || codes.sink === undefined || failed) return;
      clearTimeout(timer);
      if (codes.source !== 0) return fail(new Error(`${from[0]} ${from[1].join(' ')} exited ${codes.source}: ${errors.source.trim()}`));
      if (codes.sink !== 0) return fail(new Error(`${to[0]} ${to[1].join(' ')} exited ${codes.sink}: ${errors.sink.trim()}`));
      resolve(bytes);
    };
    source.once('error', fail);
    sink.once('error', fail);
    source.once('close', (code, signal) => {
      codes.source = code ?? (signal ? 128 : 1);
      settle();
    });
    sink.once('close', (code, signal) => {
      codes.sink = code ?? (signal ? 128 : 1);
      settle();
    });
  });
}
