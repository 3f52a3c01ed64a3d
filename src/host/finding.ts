/**
 * One thing `kiab doctor` found: what it means for kiab, and the exact fix when there is something to do.
 * `fail` means `kiab up` cannot work here (and `up` refuses on the same finding before it creates
 * anything); `warn` means it may work, worse or not everywhere; `ok` means nothing to do.
 */
export type FindingStatus = 'ok' | 'warn' | 'fail';

export interface Finding {
  id: string;
  status: FindingStatus;
  message: string;
  /** A command to run or a setting to change; null when there is nothing to do. */
  fix: string | null;
}

export function ok(id: string, message: string): Finding {
  return { id, status: 'ok', message, fix: null };
}

export function warn(id: string, message: string, fix: string | null): Finding {
  return { id, status: 'warn', message, fix };
}

export function fail(id: string, message: string, fix: string): Finding {
  return { id, status: 'fail', message, fix };
}

/** What a check says when the engine runs on another host, whose files kiab cannot read. */
export function notLocal(id: string, what: string, endpoint: string): Finding {
  return warn(id, `not checked: the engine (${endpoint}) runs on another host, whose ${what} kiab cannot see`, `run \`kiab doctor\` on that host`);
}
