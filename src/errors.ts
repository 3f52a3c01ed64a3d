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

/** The operation was interrupted (Ctrl-C); the next `up` or `delete` finishes the job. */
export class AbortedError extends KiabError {
  constructor() {
    super('interrupted', { exitCode: 130, hint: 'run the same command again to converge, or `kiab delete` to remove what was created' });
    this.name = 'AbortedError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}
