/** An error the user can act on: one line, an exit code, and what to do next. */
export class KiabError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KiabError';
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Bad input: a flag, an argument or a config file. Exit code 2, like getopt tools. */
export class UsageError extends KiabError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 2, ...(hint === undefined ? {} : { hint }) });
    this.name = 'UsageError';
  }
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The operation was interrupted (Ctrl-C, or SIGTERM); the next `up` or `delete` finishes the job. Its exit code says which signal. */
export class AbortedError extends KiabError {
  constructor(signal: StopSignal = 'SIGINT') {
    super(signal === 'SIGTERM' ? 'terminated' : 'interrupted', {
      exitCode: signal === 'SIGTERM' ? 143 : 130,
      hint: 'run the same command again to converge, or `kiab delete` to remove what was created',
    });
    this.name = 'AbortedError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}

/** Replaces every secret in a text with ***, before it can reach a message, a log or a label. */
export function redact(text: string, secrets: readonly string[] = []): string {
  return secrets.filter((secret) => secret.length > 0).reduce((result, secret) => result.split(secret).join('***'), text);
}

/**
 * A command that exited non-zero, in a machine or on the host: says where, which command (secrets
 * redacted) and the last lines it printed, so the one-line error is enough to act on.
 */
export class RunError extends KiabError {
  readonly where: string;
  readonly command: string;
  readonly status: number;
  readonly outputTail: string;

  constructor(details: { where: string; command: string; status: number; output: string; what?: string; hint?: string }) {
    const outputTail = details.output.trim().split('\n').slice(-6).join(' | ');
    super(
      `${details.where}: ${details.what ?? details.command} failed (exit ${details.status})${outputTail ? `: ${outputTail}` : ''}`,
      details.hint === undefined ? {} : { hint: details.hint },
    );
    this.name = 'RunError';
    this.where = details.where;
    this.command = details.command;
    this.status = details.status;
    this.outputTail = outputTail;
  }
}

/** An abort that reached us as a DOMException or a child process's AbortError is still an interrupt. */
export function isAbort(error: unknown): boolean {
  return error instanceof AbortedError || (error instanceof Error && error.name === 'AbortError');
}

/**
 * The engine holds a container of that name already. It may still be making it: a run killed while its
 * create was under way leaves the name taken before the container shows in any listing.
 */
export class NameTakenError extends KiabError {
  constructor(readonly container: string) {
    super(`a container named ${container} exists already`, { hint: `if it is not kiab's, remove or rename it (\`docker rm -f ${container}\`)` });
    this.name = 'NameTakenError';
  }
}
