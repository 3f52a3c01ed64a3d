/**
 * HAProxy's configuration as typed data and its one renderer. A directive is a list of tokens; tokens are
 * checked so that nothing a caller passes can break out of its line or section.
 */
export type Token = string | number;
export type Directive = readonly Token[];

export interface HaproxySection {
  kind: 'global' | 'defaults' | 'frontend' | 'backend';
  name?: string;
  directives: Directive[];
}

export type HaproxyConfig = HaproxySection[];

function token(value: Token): string {
  const text = String(value);
  if (text === '' || /[\s#'"\\]/.test(text)) throw new Error(`haproxy token ${JSON.stringify(text)} is empty or holds whitespace, a quote or #`);
  return text;
}

export function renderHaproxy(config: HaproxyConfig, header: string): string {
  const lines = [`# ${header.replace(/\n/g, ' ')}`];
  for (const section of config) {
    lines.push('', section.name === undefined ? section.kind : `${section.kind} ${token(section.name)}`);
    for (const directive of section.directives) lines.push(`  ${directive.map(token).join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A backend server as HAProxy reports it on its stats socket. */
export interface ServerHealth {
  backend: string;
  server: string;
  /** `up` and `down` come from health checks; `unchecked` servers take traffic without checks. */
  health: 'up' | 'down' | 'unchecked' | 'maintenance';
  /** HAProxy's last check result (L4OK, L7STS, L4TOUT...), when it checks. */
  check: string | null;
}

function healthOf(status: string): ServerHealth['health'] {
  // Transitions read "UP 1/2" or "DOWN 1/2": the first word is the state that still holds.
  if (status.startsWith('UP')) return 'up';
  if (status.startsWith('DOWN') || status === 'NOLB') return 'down';
  if (status.startsWith('MAINT') || status === 'DRAIN') return 'maintenance';
  return 'unchecked';
}

/** Parses `show stat` (CSV with a `# ` header line) into the servers of each backend; frontends and totals are left out. */
export function parseShowStat(csv: string): ServerHealth[] {
  const [header, ...rows] = csv.split('\n').filter((line) => line.trim() !== '');
  if (!header?.startsWith('# ')) return [];
  const columns = header.slice(2).split(',');
  const at = (name: string): number => columns.indexOf(name);
  const [pxname, svname, status, checkStatus] = [at('pxname'), at('svname'), at('status'), at('check_status')];
  return rows
    .map((row) => row.split(','))
    .filter((cells) => cells[svname] !== 'FRONTEND' && cells[svname] !== 'BACKEND')
    .map((cells) => ({
      backend: cells[pxname] ?? '',
      server: cells[svname] ?? '',
      health: healthOf(cells[status] ?? ''),
      check: cells[checkStatus] ? cells[checkStatus].replace(/^\* ?/, '') : null,
    }));
}
