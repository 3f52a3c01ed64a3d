import { KiabError } from '../../errors.js';
import { run, tryRun } from '../../provider/run.js';
import type { Provider } from '../../provider/types.js';
import { poll } from '../../wait.js';

export type SystemState = 'initializing' | 'starting' | 'running' | 'degraded' | 'maintenance' | 'stopping' | 'offline' | 'unknown';

export interface MachineHealth {
  system: SystemState;
  failedUnits: string[];
}

/** systemd reaching its default target prints this on the machine's console (a TTY). */
const BOOTED = /Reached target .*(Multi-User System|multi-user\.target|Graphical Interface)|Startup finished/;

function parseState(text: string): SystemState {
  const state = text.trim().split('\n').pop()?.trim() ?? '';
  const known: SystemState[] = ['initializing', 'starting', 'running', 'degraded', 'maintenance', 'stopping', 'offline'];
  return known.includes(state as SystemState) ? (state as SystemState) : 'unknown';
}

export async function machineHealth(provider: Provider, name: string, signal?: AbortSignal): Promise<MachineHealth> {
  // is-system-running exits non-zero for every state but running: its output is the answer.
  const state = await tryRun(provider, name, ['systemctl', 'is-system-running'], signal ? { signal } : {});
  const system = parseState(state.stdout);
  if (system !== 'degraded') return { system, failedUnits: [] };
  const failed = await run(provider, name, ['systemctl', 'list-units', '--failed', '--plain', '--no-legend', '--no-pager'], signal ? { signal } : {});
  return {
    system,
    failedUnits: failed.stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter(Boolean),
  };
}

/**
 * Waits until systemd in a machine has finished booting (running or degraded).
 * A freshly started machine is first watched through its console, because exec'ing into it before systemd
 * has set up its cgroups can break that setup on cgroup v2 hosts.
 */
export async function waitForMachine(
  provider: Provider,
  name: string,
  options: { startedAt?: Date; deadline: number; signal?: AbortSignal },
): Promise<MachineHealth> {
  if (options.startedAt) {
    await provider.waitForLog(name, BOOTED, {
      sinceSeconds: Math.floor(options.startedAt.getTime() / 1000) - 1,
      timeoutMs: Math.max(1, options.deadline - Date.now()),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  let last: SystemState = 'unknown';
  return poll(
    async () => {
      const health = await machineHealth(provider, name, options.signal);
      last = health.system;
      return health.system === 'running' || health.system === 'degraded' ? health : undefined;
    },
    {
      interval: 100,
      deadline: options.deadline,
      ...(options.signal ? { signal: options.signal } : {}),
      timeout: () =>
        new KiabError(`${name}: systemd is still ${last} at the deadline`, {
          hint: `see its journal with \`kiab exec ${name} -- journalctl -b\`, or raise --wait`,
        }),
    },
  );
}
