import { KiabError } from '../../errors.js';
import type { SwarmControl, SwarmMembership } from '../../provider/types.js';
import type { EngineSpec } from '../../spec/schema.js';

/** Reaches one engine's swarm (cluster/engine.ts for real engines, a fake in tests). */
export type SwarmOf = (engine: EngineSpec) => SwarmControl;

/** One listed engine as kiab found it: its swarm membership, or why it could not be asked. */
export type Standing =
  | { engine: EngineSpec; swarm: SwarmControl; membership: SwarmMembership; unreachable?: undefined }
  | { engine: EngineSpec; unreachable: string; swarm?: undefined; membership?: undefined };

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOTFOUND']);

/** Why an engine gave no answer, in a few words. */
function reasonOf(error: unknown): string {
  if (error instanceof KiabError) return `cannot be reached: ${error.message}`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && UNREACHABLE_CODES.has(code)) return `cannot be reached (${code})`;
  return (error as Error).message.split('\n')[0]!.trim();
}

/** Asks every engine at once where it stands; each answers within its own deadline (see provider/docker/deadline.ts). */
export async function surveyEngines(engines: EngineSpec[], swarmOf: SwarmOf): Promise<Standing[]> {
  return Promise.all(
    engines.map(async (engine): Promise<Standing> => {
      try {
        const swarm = swarmOf(engine);
        return { engine, swarm, membership: await swarm.membership() };
      } catch (error) {
        return { engine, unreachable: reasonOf(error) };
      }
    }),
  );
}

/** The node IDs of the manager's swarm, or why the manager would not say. */
export async function membersOf(manager: Standing): Promise<Set<string> | string> {
  try {
    return new Set(await manager.swarm!.memberIds());
  } catch (error) {
    return reasonOf(error);
  }
}

/** `engine NAME (HOST)`, as every line about an engine starts. */
export function engineLabel(engine: EngineSpec): string {
  return `engine ${engine.name} (${engine.host})`;
}
