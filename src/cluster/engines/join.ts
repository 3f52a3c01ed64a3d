import { KiabError, redact } from '../../errors.js';
import type { EngineSpec } from '../../spec/schema.js';
import { advertiseAddressOf, dockerAt } from './docker-cli.js';
import { ensureOneSwarm, managerOf, NotOneSwarmError, swarmProblems } from './one-swarm.js';
import { membersOf, surveyEngines, type Standing, type SwarmOf } from './survey.js';

/** What `kiab engines join` did to each engine. */
export interface JoinOutcome {
  engine: string;
  did: 'made manager' | 'joined' | 'was a member';
}

/**
 * `kiab engines join`: makes the listed engines members of one swarm, when asked and only then. The first
 * engine that manages a swarm keeps it; with none, the first engine becomes the manager of a new one. Engines
 * in no swarm join it as workers. Anything else (an engine that does not answer, is in another swarm, locked
 * or failing) is refused before any engine is changed: kiab never takes an engine out of a swarm.
 */
export async function joinEngines(engines: EngineSpec[], swarmOf: SwarmOf): Promise<JoinOutcome[]> {
  const standings = await surveyEngines(engines, swarmOf);
  let manager = managerOf(standings);
  const members = manager ? await membersOf(manager) : undefined;
  const refused = swarmProblems(standings, manager, members).filter((problem) => !problem.joinFixes);
  if (refused.length > 0) throw new NotOneSwarmError(refused);

  const outcomes: JoinOutcome[] = [];
  if (!manager) {
    const founder = standings[0]!;
    try {
      await founder.swarm!.init(advertiseAddressOf(founder.engine));
    } catch (error) {
      // Typically an engine with several addresses and none kiab can tell from its host: the user picks one.
      throw new KiabError(`engine ${founder.engine.name} could not start a swarm: ${(error as Error).message.split('\n')[0]!.trim()}`, {
        hint: `start it yourself with the address the other engines reach it at (\`${dockerAt(founder.engine)} swarm init --advertise-addr ADDRESS >/dev/null\`), then run \`kiab engines join\` again`,
      });
    }
    manager = { ...founder, membership: await founder.swarm!.membership() } as Standing;
    outcomes.push({ engine: founder.engine.name, did: 'made manager' });
  } else outcomes.push({ engine: manager.engine.name, did: 'was a member' });
  const address = manager.membership?.managerAddress;
  if (!address) throw new KiabError(`engine ${manager.engine.name} manages a swarm but says no address to join it at`);

  const joining = standings.filter((standing) => standing.engine !== manager.engine && standing.membership?.state === 'inactive');
  const token = joining.length > 0 ? await manager.swarm!.workerToken() : '';
  for (const standing of standings) {
    if (standing.engine === manager.engine) continue;
    if (!joining.includes(standing)) {
      outcomes.push({ engine: standing.engine.name, did: 'was a member' });
      continue;
    }
    try {
      await standing.swarm!.join({ managerAddress: address, token, advertiseAddress: advertiseAddressOf(standing.engine) });
    } catch (error) {
      // An engine's error may quote what it was sent: the token goes nowhere.
      throw new KiabError(
        `engine ${standing.engine.name} could not join ${manager.engine.name}'s swarm at ${address}: ${redact((error as Error).message, [token])}`,
        {
          hint: `check that it reaches ${address} (TCP 2377, and 7946 and UDP 4789 between all engines)`,
        },
      );
    }
    outcomes.push({ engine: standing.engine.name, did: 'joined' });
  }
  // What the engines now say, not what kiab meant them to.
  await ensureOneSwarm(engines, swarmOf);
  return outcomes;
}
