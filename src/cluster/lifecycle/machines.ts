import type { MachineImages } from './images.js';
import type { MachineRef } from '../../distribution/index.js';
import { NameTakenError, throwIfAborted } from '../../errors.js';
import { LABEL } from '../../labels.js';
import { poll } from '../../wait.js';
import type { ContainerInfo } from '../../provider/types.js';
import type { ClusterContext } from '../context.js';
import { distributionContext } from '../context.js';
import { forEachBounded } from '../../parallel.js';
import { waitForMachine, type MachineHealth } from './machines-booted.js';
import { clusterRegistry, machineContainerSpec, machineFiles } from './topology.js';

/** How many machines are created or started at once; the engine serialises much of it anyway. */
const PARALLEL_MACHINES = 8;

/** Puts a machine's files in place before its first boot, so nothing has to be exec'd in later. */
async function writeMachineFiles(context: ClusterContext, machine: MachineRef, all: MachineRef[]): Promise<void> {
  const files = machineFiles(context.spec, clusterRegistry(context.spec, context.names, context.ports), context.registryCredentials);
  files.push(...context.distribution.machineFiles(distributionContext(context, all), machine));
  if (files.length > 0) await context.provider.writeFiles(machine.name, files);
}

/** Creates a wanted machine that does not exist, and writes its files into one that never started. */
async function ensureCreated(
  context: ClusterContext,
  images: MachineImages,
  machine: MachineRef,
  container: ContainerInfo | undefined,
  all: MachineRef[],
): Promise<void> {
  let found = container;
  if (!found) {
    try {
      await context.provider.createContainer(machineContainerSpec(context.spec, context.names, machine, context.distribution, images[machine.role]));
    } catch (error) {
      if (!(error instanceof NameTakenError)) throw error;
      found = await machineBeingMade(context, machine, error);
    }
  }
  // A machine never started may have been left by a run killed before its files were written.
  if (!found || found.state === 'created') await writeMachineFiles(context, machine, all);
}

/** How long the engine may take to finish making a machine an earlier run asked for. */
const MACHINE_CREATE_MS = 60_000;

/**
 * The machine an earlier run asked the engine for just before it was killed: the engine takes the name at
 * once but lists the machine only once it has filled its volumes from the image (a second or so for a
 * server's preloaded images). Taken as found once it shows, if it is this cluster's machine.
 */
async function machineBeingMade(context: ClusterContext, machine: MachineRef, taken: NameTakenError): Promise<ContainerInfo> {
  const found = await poll(async () => context.provider.inspectContainer(machine.name), {
    interval: 200,
    deadline: Date.now() + MACHINE_CREATE_MS,
    ...(context.signal ? { signal: context.signal } : {}),
    timeout: () => taken,
  });
  if (found.labels[LABEL.cluster] !== context.names.cluster || found.labels[LABEL.role] !== machine.role) throw taken;
  return found;
}

/** Starts a machine that is not running (thaws a frozen one); its start time when it was started here. */
async function ensureStarted(context: ClusterContext, machine: MachineRef, container: ContainerInfo | undefined): Promise<Date | undefined> {
  // A crash during a snapshot can leave machines frozen; thaw them rather than restart.
  if (container?.state === 'paused') await context.provider.unpauseContainer(machine.name);
  else if (container?.state !== 'running') {
    await context.provider.startContainer(machine.name);
    return (await context.provider.inspectContainer(machine.name))?.startedAt ?? new Date();
  }
  return undefined;
}

/** Runs `work` for each machine, PARALLEL_MACHINES at a time, stopping at Ctrl-C or the first failure. */
function eachMachine(context: ClusterContext, machines: MachineRef[], work: (machine: MachineRef) => Promise<void>): Promise<void> {
  return forEachBounded(
    machines,
    PARALLEL_MACHINES,
    async (machine, signal) => {
      throwIfAborted(signal);
      await work(machine);
    },
    context.signal,
  );
}

/**
 * Makes every wanted machine exist (from its role's image) and run, each started as soon as it is created. Returns
 * the start time of machines started here, which the boot wait uses to read only this boot's console output.
 * `all` is every machine of the cluster, for the files that name the others (default: the wanted ones).
 */
export async function ensureMachinesRunning(
  context: ClusterContext,
  images: MachineImages,
  wanted: MachineRef[],
  existing: Map<string, ContainerInfo>,
  onProgress: (detail: string) => void,
  all: MachineRef[] = wanted,
): Promise<Map<string, Date>> {
  const started = new Map<string, Date>();
  let done = 0;
  await eachMachine(context, wanted, async (machine) => {
    await ensureCreated(context, images, machine, existing.get(machine.name), all);
    const at = await ensureStarted(context, machine, existing.get(machine.name));
    if (at) started.set(machine.name, at);
    done += 1;
    onProgress(`${done}/${wanted.length}`);
  });
  return started;
}

/** The first half of ensureMachinesRunning: every wanted machine exists with its files, none started here. */
export async function ensureMachinesCreated(
  context: ClusterContext,
  images: MachineImages,
  wanted: MachineRef[],
  existing: Map<string, ContainerInfo>,
): Promise<void> {
  await eachMachine(context, wanted, (machine) => ensureCreated(context, images, machine, existing.get(machine.name), wanted));
}

/** The second half: starts the machines ensureMachinesCreated made (`existing` as it was before that). */
export async function startMachines(context: ClusterContext, wanted: MachineRef[], existing: Map<string, ContainerInfo>): Promise<Map<string, Date>> {
  const started = new Map<string, Date>();
  await eachMachine(context, wanted, async (machine) => {
    const at = await ensureStarted(context, machine, existing.get(machine.name));
    if (at) started.set(machine.name, at);
  });
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
