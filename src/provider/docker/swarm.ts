import Docker from 'dockerode';
import type { SwarmControl, SwarmMembership } from '../types.js';
import type { EngineEndpoint } from './connect.js';
import { CALL_MS, EngineTimeoutError, PING_MS, withinDeadline } from './deadline.js';

interface SwarmInfo {
  LocalNodeState?: string;
  NodeID?: string;
  NodeAddr?: string;
  ControlAvailable?: boolean;
  Error?: string;
  RemoteManagers?: Array<{ NodeID?: string; Addr?: string }> | null;
}

const STATES = new Set<SwarmMembership['state']>(['inactive', 'pending', 'active', 'error', 'locked']);

/** What `docker info` says of the engine and its swarm, in kiab's terms. */
export function membershipOf(info: { ID?: string; Swarm?: SwarmInfo }): SwarmMembership {
  const swarm = info.Swarm;
  const state = STATES.has(swarm?.LocalNodeState as SwarmMembership['state']) ? (swarm!.LocalNodeState as SwarmMembership['state']) : 'inactive';
  const nodeId = swarm?.NodeID || undefined;
  const manager = state === 'active' && swarm?.ControlAvailable === true;
  // A manager lists itself among the managers with the address it listens on; its node address is the fallback.
  const own = swarm?.RemoteManagers?.find((remote) => remote.NodeID === nodeId)?.Addr;
  return {
    engineId: info.ID ?? '',
    state,
    nodeId,
    manager,
    managerAddress: manager ? own || (swarm?.NodeAddr ? `${swarm.NodeAddr}:2377` : undefined) : undefined,
    error: swarm?.Error || undefined,
  };
}

/** Dockerode's swarm calls take an abort signal, which its typings leave out. */
interface SwarmApi {
  info(options: object): Promise<{ ID?: string; Swarm?: SwarmInfo }>;
  listNodes(options: object): Promise<Array<{ ID: string }>>;
  swarmInit(options: object): Promise<unknown>;
  swarmInspect(options: object): Promise<{ JoinTokens?: { Worker?: string } }>;
  swarmJoin(options: object): Promise<unknown>;
}

/** One engine's swarm through its API; every request under a deadline. */
export class DockerSwarm implements SwarmControl {
  readonly endpoint: string;
  private readonly api: SwarmApi;

  constructor(endpoint: EngineEndpoint) {
    this.endpoint = endpoint.description;
    this.api = new Docker(endpoint.options) as unknown as SwarmApi;
  }

  async membership(): Promise<SwarmMembership> {
    try {
      const info = await withinDeadline(this.endpoint, 'its status', PING_MS, (abortSignal) => this.api.info({ abortSignal }));
      return membershipOf(info);
    } catch (error) {
      // Said of the engine, whose name and address come before it.
      if (error instanceof EngineTimeoutError) throw new Error(`did not answer within ${PING_MS / 1000} s`, { cause: error });
      throw error;
    }
  }

  async memberIds(): Promise<string[]> {
    const nodes = await withinDeadline(this.endpoint, 'a listing of swarm nodes', PING_MS, (abortSignal) => this.api.listNodes({ abortSignal }));
    return nodes.map((node) => node.ID);
  }

  async init(advertiseAddress: string | undefined): Promise<void> {
    await withinDeadline(this.endpoint, 'a swarm init', CALL_MS, (abortSignal) =>
      this.api.swarmInit({ ListenAddr: '0.0.0.0:2377', ...(advertiseAddress ? { AdvertiseAddr: advertiseAddress } : {}), abortSignal }),
    );
  }

  async workerToken(): Promise<string> {
    const swarm = await withinDeadline(this.endpoint, 'a swarm inspect', PING_MS, (abortSignal) => this.api.swarmInspect({ abortSignal }));
    const token = swarm.JoinTokens?.Worker;
    if (!token) throw new Error(`the engine at ${this.endpoint} gave no worker join token`);
    return token;
  }

  async join(options: { managerAddress: string; token: string; advertiseAddress: string | undefined }): Promise<void> {
    await withinDeadline(this.endpoint, 'a swarm join', CALL_MS, (abortSignal) =>
      this.api.swarmJoin({
        ListenAddr: '0.0.0.0:2377',
        RemoteAddrs: [options.managerAddress],
        JoinToken: options.token,
        ...(options.advertiseAddress ? { AdvertiseAddr: options.advertiseAddress } : {}),
        abortSignal,
      }),
    );
  }
}
