import { KiabError } from '../../errors.js';
import type { EngineSpec } from '../../spec/schema.js';
import { dockerAt, initCommand, joinCommand } from './docker-cli.js';
import { engineLabel, membersOf, surveyEngines, type Standing, type SwarmOf } from './survey.js';

/** What is wrong with one engine, and the docker command that puts it right. */
export interface SwarmProblem {
  line: string;
  /** `kiab engines join` would fix it (the engine is only in no swarm yet). */
  joinFixes: boolean;
}

/** The first listed engine that manages a swarm: the one the others must be members of. */
export function managerOf(standings: Standing[]): Standing | undefined {
  return standings.find((standing) => standing.membership?.manager);
}

/**
 * Every reason the engines are not members of one swarm, each with the command to run, in the order to run
 * them. `members` is the manager's list of node IDs (or why it gave none).
 */
export function swarmProblems(standings: Standing[], manager: Standing | undefined, members: Set<string> | string | undefined): SwarmProblem[] {
  const problems: SwarmProblem[] = [];
  const add = (engine: EngineSpec, what: string, command: string, joinFixes = false): void =>
    void problems.push({ line: `${engineLabel(engine)} ${what}: ${command}`, joinFixes });
  const anyActive = standings.some((standing) => standing.membership?.state === 'active');
  // With no manager and no swarm at all, the first engine that answers becomes the manager.
  const founder = manager ?? (anyActive ? undefined : standings.find((standing) => standing.membership));
  for (const standing of standings) {
    const { engine, membership } = standing;
    if (!membership) {
      add(engine, `${standing.unreachable}; check that it runs and answers`, `${dockerAt(engine)} info`);
      continue;
    }
    // Machines placed on "two" engines that are one would share its host: the cluster would not be spread.
    const twin = standings.find((other) => other.membership?.engineId === membership.engineId);
    if (twin && twin !== standing) {
      add(engine, `is the same engine as ${twin.engine.name} (${twin.engine.host}); list it once`, `${dockerAt(engine)} info --format '{{.ID}}'`);
      continue;
    }
    if (standing === manager) {
      if (typeof members === 'string') add(engine, `manages a swarm but did not list its members (${members})`, `${dockerAt(engine)} node ls`);
      continue;
    }
    if (standing === founder && !manager) {
      add(engine, 'is in no swarm; make it the first manager', initCommand(engine), true);
      continue;
    }
    switch (membership.state) {
      case 'inactive':
        if (founder)
          add(engine, `is in no swarm; join it to ${founder.engine.name}'s`, joinCommand(engine, founder.engine, manager?.membership?.managerAddress), true);
        else
          add(
            engine,
            'is in no swarm, and no engine listed manages the swarm the others are in; list one of its managers in engines',
            `${dockerAt(engine)} info`,
          );
        break;
      case 'active':
        if (!manager)
          add(
            engine,
            'is a worker of a swarm none of whose managers engines lists; list one, or take this engine out of that swarm',
            `${dockerAt(engine)} swarm leave`,
          );
        else if (typeof members !== 'string' && !members?.has(membership.nodeId ?? ''))
          add(
            engine,
            `is in another swarm than ${manager.engine.name}'s; leave that one, then join`,
            `${dockerAt(engine)} swarm leave && ${joinCommand(engine, manager.engine, manager.membership!.managerAddress)}`,
          );
        break;
      case 'locked':
        add(engine, 'has its swarm locked; unlock it', `${dockerAt(engine)} swarm unlock`);
        break;
      case 'pending':
        add(engine, 'is still joining a swarm; wait, then check that it is active', `${dockerAt(engine)} info --format '{{.Swarm.LocalNodeState}}'`);
        break;
      case 'error':
        add(engine, `is in a swarm that fails (${membership.error ?? 'no reason given'}); look at it`, `${dockerAt(engine)} info`);
        break;
    }
  }
  return problems;
}

/** The refusal: one line per problem, in the order to fix them, and what kiab can do instead. */
export class NotOneSwarmError extends KiabError {
  constructor(readonly problems: SwarmProblem[]) {
    const lines = [
      'the engines are not members of one swarm, and kiab made nothing; run:',
      ...problems.map((problem) => `  ${problem.line}`),
      ...(problems.every((problem) => problem.joinFixes) ? ['or let kiab run them: `kiab engines join` with this kiab.yaml'] : []),
    ];
    super(lines.join('\n'));
    this.name = 'NotOneSwarmError';
  }
}

/**
 * Checks, before anything is made, that every engine answers (each within seconds) and that all are members
 * of one swarm with a manager among them. Returns the manager's name; refuses with the commands otherwise.
 */
export async function ensureOneSwarm(engines: EngineSpec[], swarmOf: SwarmOf): Promise<{ manager: string }> {
  const standings = await surveyEngines(engines, swarmOf);
  const manager = managerOf(standings);
  const members = manager ? await membersOf(manager) : undefined;
  const problems = swarmProblems(standings, manager, members);
  if (problems.length > 0 || !manager) throw new NotOneSwarmError(problems);
  return { manager: manager.engine.name };
}
