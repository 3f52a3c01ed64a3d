import type { SwarmControl, SwarmMembership } from '../../src/provider/types.js';
import type { EngineSpec } from '../../src/spec/schema.js';

/**
 * Engines and their swarms in memory, for the engines' checks and `kiab engines join` without Docker. It
 * follows Docker where kiab depends on it: a swarm has managers and members, a token is the swarm's, joining
 * needs a manager's address and its token, an engine in a swarm can neither init nor join another.
 */
export class FakeSwarms {
  readonly engines = new Map<string, FakeSwarm>();
  private swarms = 0;

  /** A fake engine at `host` (in no swarm), reached at `address` by the others. */
  add(host: string, address: string): FakeSwarm {
    const engine = new FakeSwarm(this, address);
    this.engines.set(host, engine);
    return engine;
  }

  /** For `swarmOf`: the engine a spec names; an unknown host is an engine that cannot be reached. */
  readonly swarmOf = (engine: EngineSpec): SwarmControl => {
    const found = this.engines.get(engine.host);
    if (!found) throw Object.assign(new Error(`connect ECONNREFUSED ${engine.host}`), { code: 'ECONNREFUSED' });
    return found;
  };

  newSwarm(): string {
    this.swarms += 1;
    return `swarm-${this.swarms}`;
  }

  membersOf(swarm: string): FakeSwarm[] {
    return [...this.engines.values()].filter((engine) => engine.swarm === swarm);
  }

  tokenOf(swarm: string): string {
    return `SWMTKN-1-${swarm}-secret`;
  }
}

let nodes = 0;

export class FakeSwarm implements SwarmControl {
  readonly endpoint: string;
  state: SwarmMembership['state'] = 'inactive';
  swarm: string | undefined;
  nodeId: string | undefined;
  manager = false;
  /** The engine's own ID: two fakes given one ID are one engine reached at two addresses. */
  engineId: string;
  /** Answers nothing: every call fails as a deadline would. */
  hung = false;
  /** What was asked of it that changes it, in order. */
  readonly changes: string[] = [];
  /** Makes the next join fail with this message. */
  joinFailure: string | undefined;
  /** Makes init fail with this message. */
  initFailure: string | undefined;

  constructor(
    private readonly world: FakeSwarms,
    readonly address: string,
  ) {
    this.endpoint = `fake://${address}`;
    this.engineId = `engine-${address}`;
  }

  async membership(): Promise<SwarmMembership> {
    if (this.hung) throw new Error('did not answer within 5 s');
    return {
      engineId: this.engineId,
      state: this.state,
      nodeId: this.nodeId,
      manager: this.manager && this.state === 'active',
      managerAddress: this.manager && this.state === 'active' ? `${this.address}:2377` : undefined,
      error: this.state === 'error' ? 'certificate expired' : undefined,
    };
  }

  async memberIds(): Promise<string[]> {
    if (!this.manager || !this.swarm) throw new Error('This node is not a swarm manager.');
    return this.world.membersOf(this.swarm).map((engine) => engine.nodeId!);
  }

  async init(advertiseAddress: string | undefined): Promise<void> {
    this.changes.push(`init ${advertiseAddress ?? '(engine picks)'}`);
    if (this.initFailure) throw new Error(this.initFailure);
    if (this.state !== 'inactive') throw new Error('This node is already part of a swarm.');
    this.enter(this.world.newSwarm(), true);
  }

  async workerToken(): Promise<string> {
    if (!this.manager || !this.swarm) throw new Error('This node is not a swarm manager.');
    return this.world.tokenOf(this.swarm);
  }

  async join(options: { managerAddress: string; token: string; advertiseAddress: string | undefined }): Promise<void> {
    this.changes.push(`join ${options.managerAddress} as ${options.advertiseAddress ?? '(engine picks)'}`);
    if (this.joinFailure) throw new Error(this.joinFailure.replace('TOKEN', options.token));
    if (this.state !== 'inactive') throw new Error('This node is already part of a swarm.');
    const manager = [...this.world.engines.values()].find((engine) => engine.manager && `${engine.address}:2377` === options.managerAddress);
    if (!manager?.swarm) throw new Error(`could not connect to ${options.managerAddress}`);
    if (options.token !== this.world.tokenOf(manager.swarm)) throw new Error('invalid join token');
    this.enter(manager.swarm, false);
  }

  /** Puts it in a swarm as a test sets the scene. */
  enter(swarm: string, manager: boolean): void {
    nodes += 1;
    this.state = 'active';
    this.swarm = swarm;
    this.nodeId = `node-${nodes}`;
    this.manager = manager;
  }
}
