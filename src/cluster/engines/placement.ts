import type { MachineRole } from '../../labels.js';
import { nodeOf, type NodeSpec } from '../../spec/shape.js';
import { slotKey } from '../lifecycle/topology.js';

/** Which engine runs each machine (by slot key, `server-0`) and the box, by engine name. */
export interface Placement {
  box: string;
  machines: Map<string, string>;
}

interface PlacedSpec {
  engines: Array<{ name: string }>;
  nodes: NodeSpec[];
  box?: { engine?: string | undefined } | undefined;
}

/**
 * Places machines on engines. A node's own `engine` wins. Otherwise servers go where the fewest servers are,
 * so that losing one host loses as few control planes as can be; workers go where the fewest machines are,
 * which is round-robin over the engines once the servers are placed. Ties go to the engine listed first.
 * Servers are placed before workers and each role by index, so a machine's engine depends only on the ones
 * before it: adding workers never moves one placed before. The box goes on `box.engine`, else the first.
 */
export function placeMachines(spec: PlacedSpec, slots: ReadonlyArray<{ role: MachineRole; index: number }>): Placement {
  const names = spec.engines.map((engine) => engine.name);
  const servers = new Map(names.map((name) => [name, 0]));
  const machines = new Map(names.map((name) => [name, 0]));
  const placed = new Map<string, string>();
  const ordered = [...slots].sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === 'server' ? -1 : 1));
  for (const slot of ordered) {
    const byLoad = (load: (name: string) => number[]): string =>
      names.reduce((best, name) => (compareLoads(load(name), load(best)) < 0 ? name : best), names[0]!);
    const engine =
      nodeOf(spec, slot.role, slot.index)?.engine ??
      (slot.role === 'server' ? byLoad((name) => [servers.get(name)!, machines.get(name)!]) : byLoad((name) => [machines.get(name)!]));
    placed.set(slotKey(slot), engine);
    machines.set(engine, machines.get(engine)! + 1);
    if (slot.role === 'server') servers.set(engine, servers.get(engine)! + 1);
  }
  return { box: spec.box?.engine ?? names[0]!, machines: placed };
}

/** Lexicographic order of two loads: the first figure decides, the next breaks a tie. */
function compareLoads(a: number[], b: number[]): number {
  for (let at = 0; at < a.length; at += 1) if (a[at] !== b[at]) return a[at]! - b[at]!;
  return 0;
}
