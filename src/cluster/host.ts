import type { Distribution } from '../distribution/index.js';
import type { MachineRole } from '../labels.js';
import { KiabError } from '../errors.js';
import { inotifyShortfall, inotifyUsage } from '../host/inotify.js';
import type { Provider } from '../provider/types.js';

function describe(machines: Array<{ role: MachineRole }>, distribution: Distribution): string {
  const servers = machines.filter((machine) => machine.role === 'server').length;
  const workers = machines.length - servers;
  const parts = [servers ? `${servers} server${servers > 1 ? 's' : ''}` : '', workers ? `${workers} worker${workers > 1 ? 's' : ''}` : ''].filter(Boolean);
  return `${parts.join(' + ')} of ${distribution.name}`;
}

/**
 * Refuses, before anything is created, machines this host has no room for, naming the limit and the value
 * to raise it to, instead of a join that fails minutes later. Where the engine is remote, or the host's
 * usage cannot be read, nothing is refused on a guess.
 */
export async function ensureHostRoom(provider: Provider, distribution: Distribution, starting: Array<{ role: MachineRole }>): Promise<void> {
  if (starting.length === 0 || provider.localUid === undefined) return;
  const usage = await inotifyUsage(provider.localUid);
  if (!usage) return;
  const need = { instances: 0, watches: 0 };
  for (const machine of starting) {
    const each = distribution.inotifyNeed(machine.role);
    need.instances += each.instances;
    need.watches += each.watches;
  }
  const shortfall = inotifyShortfall(usage, need, describe(starting, distribution));
  if (shortfall) throw new KiabError(shortfall.message, { hint: shortfall.hint });
}
