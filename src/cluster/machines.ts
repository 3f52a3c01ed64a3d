import type { MachineRef } from '../distribution/index.js';
import { throwIfAborted } from '../errors.js';
import type { ContainerInfo } from '../provider/types.js';
import type { ClusterContext } from './context.js';
import { distributionContext } from './context.js';
import { forEachBounded } from './parallel.js';
import { waitForMachine, type MachineHealth } from './readiness.js';
import { clusterRegistry, machineContainerSpec, machineFiles } from './topology.js';

/** How many machines are created or started at once; the engine serialises much of it anyway. */
const PARALLEL_MACHINES = 8;

/** Puts a machine's files in place before its first boot, so nothing has to be exec'd in later. */
async function writeMachineFiles(context: ClusterContext, machine: MachineRef, all: MachineRef[]): Promise<void> {
  const files = machineFiles(clusterRegistry(context.spec, context.names, context.ports));
  files.push(...context.distribution.machineFiles(distributionContext(context, all), machine));
  if (files.length > 0) await context.provider.writeFiles(machine.name, files);
}

/**
 * Makes every wanted machine exist (from `image`) and run. Returns the start time of machines started here,
 * which the boot wait uses to read only this boot's console output.
 */
export async function ensureMachinesRunning(
  context: ClusterContext,
  image: string,
  wanted: MachineRef[],
  existing: Map<string, ContainerInfo>,
  onProgress: (detail: string) => void,
  all: MachineRef[] = wanted,
): Promise<Map<string, Date>> {
  const started = new Map<string, Date>();
  let done = 0;
  await forEachBounded(
    wanted,
    PARALLEL_MACHINES,
    async (machine, signal) => {
      throwIfAborted(signal);
      const container = existing.get(machine.name);
      if (!container) await context.provider.createContainer(machineContainerSpec(context.spec, context.names, machine, context.distribution, image));
      // A machine never started may have been left by a run killed before its files were written.
      if (!container || container.state === 'created') await writeMachineFiles(context, machine, all);
      // A crash during a snapshot can leave machines frozen; thaw them rather than restart.
      if (container?.state === 'paused') await context.provider.unpauseContainer(machine.name);
      else if (container?.state !== 'running') {
        await context.provider.startContainer(machine.name);
        const after = await context.provider.inspectContainer(machine.name);
        started.set(machine.name, after?.startedAt ?? new Date());
      }
      done += 1;
      onProgress(`${done}/${wanted.length}`);
    },
    context.signal,
  );
  return started;
}

export async function waitForMachines(
  context: ClusterContext,
  machines: MachineRef[],
  started: Map<string, Date>,
  onProgress: (detail: string) => void,
): Promise<Map<string, MachineHealth>> {
  const health = new Map<string, MachineHealth>();
  await forEachBounded(
    machines,
    machines.length || 1,
    async (machine, signal) => {
      const startedAt = started.get(machine.name);
      health.set(
        machine.name,
        await waitForMachine(context.provider, machine.name, { ...(startedAt ? { startedAt } : {}), deadline: context.deadline, signal }),
      );
      onProgress(`${health.size}/${machines.length} booted`);
    },
    context.signal,
  );
  return health;
}
