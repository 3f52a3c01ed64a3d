import { distributionFor } from '../../distribution/index.js';
import { UsageError, throwIfAborted } from '../../errors.js';
import { clusterNames } from '../../names.js';
import type { Provider } from '../../provider/types.js';
import { runStep, type Reporter } from '../../reporter.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { addonPreflight } from '../kubernetes/addons.js';
import { clusterContext, distributionContext, type ClusterContext } from '../context.js';
import { ensureHostReady } from '../doctor.js';
import { swarmOf } from '../engine.js';
import { ensureOneSwarm } from '../engines/one-swarm.js';
import type { SwarmOf } from '../engines/survey.js';
import { effectiveSpec, withResolvedVersion } from './existing.js';
import { refreshBox } from './box.js';
import { ensureBox, ensureNetwork, planPorts } from './foundation.js';
import { ensureClusterImages } from './images.js';
import { ensureLan } from './lan.js';
import { registryLogin } from './registry-auth.js';
import type { KubeconfigOptions } from '../kubernetes/user-kubeconfig.js';
import { withClusterLock } from '../lock.js';
import { ensureMachinesCreated, ensureMachinesRunning, startMachines, waitForMachines } from './machines.js';
import { observeCluster } from './observe.js';
import { forEachBounded } from '../../parallel.js';
import { beginAddons, finishKubernetes } from '../kubernetes/wait-ready.js';
import { CLEAN_SNAPSHOT, captureSnapshot, snapshotExists, unpauseLeftPaused, untilKubernetesAnswers } from '../snapshot/snapshot.js';
import { clusterStatus, type ClusterStatus } from '../status.js';
import { desiredMachines, desiredSlots, slotKey, withNames } from './topology.js';
import { checkMachineShapes } from './shape-preflight.js';
import { checkRanges } from './range-preflight.js';
import { applyNodeShapes } from '../kubernetes/node-shape.js';

export interface UpOptions {
  provider: Provider;
  spec: ClusterSpec;
  /** Fields of the spec the user set (dotted paths); an existing cluster refuses a set value it cannot take. */
  given?: string[];
  reporter: Reporter;
  signal?: AbortSignal;
  /** Take the `clean` snapshot once the cluster is ready (default true). */
  snapshot?: boolean;
  /** Where and how to merge the cluster's kubeconfig; undefined leaves kubeconfig files alone. */
  kubeconfig?: KubeconfigOptions;
  /** How the swarm of each of the spec's engines is reached (default: the Docker engines themselves). */
  swarmOf?: SwarmOf;
}

function severalEnginesUnsupported(): UsageError {
  return new UsageError(
    'engines: the engines are one swarm, but a cluster over several engines is not supported yet, and kiab made nothing',
    'leave engines (and nodes[].engine, box.engine) out to make the cluster on the engine DOCKER_HOST names',
  );
}

/**
 * Creates a cluster or converges an existing one, as ordered steps that each check before they act: running
 * it twice does nothing the second time, and an interrupted run is finished by the next.
 */
export async function up(options: UpOptions): Promise<ClusterStatus> {
  const { provider, reporter, signal } = options;
  // Nothing of a cluster over several engines may be made on the one engine DOCKER_HOST names; the engines
  // are checked first, so that a user learns what to fix on them before this version refuses.
  if (options.spec.engines) {
    await ensureOneSwarm(options.spec.engines, options.swarmOf ?? swarmOf);
    throw severalEnginesUnsupported();
  }
  await provider.ping();
  return withClusterLock(
    options.spec.name,
    async () => {
      const names = clusterNames(options.spec.name);
      const observed = await unpauseLeftPaused(provider, await observeCluster(provider, names.cluster));
      const spec = effectiveSpec(withResolvedVersion(options.spec), options.given ?? [], observed);
      const distribution = distributionFor(spec.distribution);
      // Everything that can refuse the request does so before the first object is created: the host first,
      // as a download of assets is the slowest of these.
      const running = new Set(observed.machines.filter((machine) => machine.container.state === 'running').map(slotKey));
      const slots = desiredSlots(spec, observed);
      // A cluster that has its network had its ranges checked when it was made.
      if (!observed.network) await checkRanges(provider, spec);
      await ensureHostReady(
        provider,
        distribution,
        slots.filter((slot) => !running.has(slotKey(slot))),
        spec.networking.kubeProxyMode,
      );
      await distribution.preflight({ spec, provider, reporter, ...(signal ? { signal } : {}) });
      // After the distribution's own assets, whose absence is the first thing to fix on a fresh machine.
      await addonPreflight(spec, distribution);
      const ports = await planPorts(provider, spec, observed);
      const made = new Set(observed.machines.map(slotKey));
      const exposed = await checkMachineShapes(
        provider,
        spec,
        slots.filter((slot) => !made.has(slotKey(slot))),
        ports,
      );
      for (const line of exposed) reporter.info(line);
      throwIfAborted(signal);

      const roles = [...new Set(slots.flatMap((slot) => (made.has(slotKey(slot)) ? [] : [slot.role])))];
      const machineImages = await runStep(reporter, 'images', () => ensureClusterImages(provider, reporter, spec, roles, signal));
      throwIfAborted(signal);
      // The LAN's refusals (no such link, an address a host answers for) come before the cluster's first object.
      if (spec.network.lan)
        await runStep(reporter, `lan ${spec.network.lan.address} on ${spec.network.lan.parent}`, () => ensureLan(provider, spec, names, observed));
      throwIfAborted(signal);
      const subnet = await runStep(reporter, `network ${names.network}`, () => ensureNetwork(provider, spec, names, observed, ports));
      const login = await registryLogin(provider, spec, names, observed, ports, reporter);
      const context: ClusterContext = {
        ...clusterContext(provider, spec, subnet, ports, signal),
        ...(login ? { registryCredentials: login.credentials } : {}),
      };
      const machines = withNames(desiredMachines(spec, observed, subnet), names);
      throwIfAborted(signal);

      // A box that does not run yet touches no machine, so it is made beside them. A running one is refreshed
      // with the CA it reads from the servers, which the machine steps may be making anew: it goes first.
      const boxStep = (stepContext: ClusterContext): Promise<void> => runStep(reporter, `box ${names.box}`, () => ensureBox(stepContext, observed, machines));
      const boxBeside = observed.box?.state !== 'running';
      if (!boxBeside) await boxStep(context);
      throwIfAborted(signal);

      const existing = new Map(observed.machines.map((machine) => [machine.container.name, machine.container]));
      const wantsClean = options.snapshot !== false && !(await snapshotExists(provider, names.cluster, CLEAN_SNAPSHOT));
      // Machines that get nothing installed are clean as created: captured before they first start, which costs
      // an empty layer each instead of a pause and a copy of every volume.
      const cleanAsCreated = wantsClean && distribution.cleanAsCreated && observed.machines.length === 0;
      let started = new Map<string, Date>();
      const makeMachines = async (stepContext: ClusterContext): Promise<void> => {
        if (!cleanAsCreated) {
          started = await runStep(reporter, `machines (${machines.length})`, (progress) =>
            ensureMachinesRunning(stepContext, machineImages, machines, existing, (detail) => progress.update(detail)),
          );
          return;
        }
        await runStep(reporter, `machines (${machines.length})`, () => ensureMachinesCreated(stepContext, machineImages, machines, existing));
        // The box may be starting beside this step: the capture looks at the machines only.
        await captureSnapshot(provider, await observeCluster(provider, names.cluster, { machinesOnly: true }), CLEAN_SNAPSHOT, reporter, stepContext.signal);
        started = await runStep(reporter, `start ${machines.length} machines`, () => startMachines(stepContext, machines, existing));
      };
      // Side by side, the first failure stopping the other (see forEachBounded) and named rather than its echo.
      await forEachBounded(boxBeside ? [makeMachines, boxStep] : [makeMachines], 2, (step, stop) => step({ ...context, signal: stop }), signal);
      await runStep(reporter, 'boot', (progress) => waitForMachines(context, machines, started, (detail) => progress.update(detail)));
      throwIfAborted(signal);

      // The addons' install begins once the first server's API answers, beside the joins (see beginAddons). Should
      // anything before its step fail, it is stopped and settled before up reports the failure.
      const ahead = new AbortController();
      let installing: ReturnType<typeof beginAddons>;
      const controlPlaneUp = async (): Promise<void> => {
        await refreshBox(context, machines);
        installing ??= beginAddons(context, machines, signal ? AbortSignal.any([signal, ahead.signal]) : ahead.signal);
      };
      try {
        await runStep(reporter, `install ${distribution.name}`, (progress) =>
          distribution.install(distributionContext(context, machines, { progress, reporter, controlPlaneUp })),
        );
        await finishKubernetes(context, machines, reporter, options.kubeconfig, { addons: 'install', ...(installing ? { installing } : {}) });
      } catch (error) {
        ahead.abort();
        await installing?.catch(() => undefined);
        throw error;
      }
      // Labels and taints follow the spec on every node, live; only when the user gave the nodes (the cluster's
      // record keeps what it was made with, which would otherwise undo a change made since).
      if (context.distribution.kubernetes && spec.nodes.length > 0 && (observed.machines.length === 0 || (options.given ?? []).includes('nodes')))
        await runStep(reporter, 'node labels and taints', () => applyNodeShapes(context, machines));
      throwIfAborted(signal);
      if (wantsClean && !cleanAsCreated) {
        await captureSnapshot(provider, await observeCluster(provider, names.cluster), CLEAN_SNAPSHOT, reporter, signal);
        await untilKubernetesAnswers(context, machines, reporter);
      }
      return clusterStatus(provider, names.cluster);
    },
    { engine: provider.endpoint, reporter, ...(signal ? { signal } : {}) },
  );
}
