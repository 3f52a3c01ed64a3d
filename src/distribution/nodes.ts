import { KiabError } from '../errors.js';
import { run, tryRun } from '../provider/run.js';
import type { DistributionContext, MachineRef } from './types.js';

/* What the Kubernetes distributions share about their nodes: which server to act from, and how a node leaves. */

/** The first server: where the cluster was initialised, or the server that took that role over. */
export function firstServer(context: DistributionContext): MachineRef {
  const server = context.machines.find((machine) => machine.role === 'server');
  if (!server) throw new KiabError(`cluster ${context.spec.name} has no server`);
  return server;
}

/** A server other than the one leaving, to act from: so the first server can leave too. */
export function remainingServer(context: DistributionContext, leaving: MachineRef): MachineRef {
  const server = context.machines.find((machine) => machine.role === 'server' && machine.name !== leaving.name);
  if (!server) throw new KiabError(`cluster ${context.spec.name} has no other server to act from`);
  return server;
}

/**
 * Moves a node's pods elsewhere with `kubectl` (a command prefix) run on `via`. A node that is down cannot
 * be drained (its pods cannot confirm they stopped): that is said, and deleting its Node object then
 * removes its pods.
 */
export async function drainNode(context: DistributionContext, kubectl: string[], via: MachineRef, machine: MachineRef): Promise<void> {
  const drained = await tryRun(context.provider, via.name, [
    ...kubectl,
    'drain',
    machine.name,
    '--ignore-daemonsets',
    '--delete-emptydir-data',
    '--force',
    '--timeout=90s',
  ]);
  if (drained.exitCode === 0) return;
  const reason = (drained.stderr || drained.stdout).trim().split('\n').pop() ?? '';
  context.warn(`draining ${machine.name} failed (${reason}); deleting the node object instead`);
}

/** Deletes the Node object; this must succeed, or the name could not join again. */
export async function deleteNode(context: DistributionContext, kubectl: string[], via: MachineRef, machine: MachineRef): Promise<void> {
  await run(context.provider, via.name, [...kubectl, 'delete', 'node', machine.name, '--ignore-not-found'], { what: `deleting node ${machine.name}` });
}
