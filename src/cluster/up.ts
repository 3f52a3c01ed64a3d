import { distributionFor, type MachineRef } from '../distribution/index.js';
import { boxAddress } from '../net/addresses.js';
import { throwIfAborted } from '../errors.js';
import type { Provider } from '../provider/types.js';
import { parseDuration } from '../spec/duration.js';
import type { ClusterSpec } from '../spec/schema.js';
import { distributionContext, type ClusterContext } from './context.js';
import { ensureBox, ensureNetwork, planPorts } from './foundation.js';
import { ensureImages } from './images.js';
import { withClusterLock } from './lock.js';
import { ensureMachinesRunning, waitForMachines } from './machines.js';
import { clusterNames } from './names.js';
import { observeCluster, type ObservedCluster } from './observe.js';
import { runStep, type Reporter } from './reporter.js';
import { CLEAN_SNAPSHOT, captureSnapshot, snapshotExists } from './snapshot.js';
import { clusterStatus, type ClusterStatus } from './status.js';
import { apiServerUrl, publishLocalRegistry, readUserKubeconfig, writeUserKubeconfig, type KubeconfigOptions } from './kubernetes.js';
import { waitUntilReady } from './ready.js';
import { boxImageOf, clusterRegistry, desiredMachines, nodeImageOf, withNames } from './topology.js';

export interface UpOptions {
  provider: Provider;
  spec: ClusterSpec;
  reporter: Reporter;
  signal?: AbortSignal;
  /** Take the `clean` snapshot once the cluster is ready (default true). */
  snapshot?: boolean;
  /** Where and how to merge the cluster's kubeconfig; undefined leaves kubeconfig files alone. */
  kubeconfig?: KubeconfigOptions;
}

async function clusterKubeconfigAt(context: ClusterContext, machines: MachineRef[], server: string): Promise<string> {
  return readUserKubeconfig(context.distribution, distributionContext(context, machines, () => undefined), context.names, server);
}

/**
 * An existing cluster keeps what it was made with (network, ports, images, distribution); `up` only adds
 * machines the spec asks for beyond what exists, and never removes any.
 */
function effectiveSpec(requested: ClusterSpec, observed: ObservedCluster): ClusterSpec {
  const stored = observed.spec;
  if (!stored) return requested;
  return { ...stored, servers: Math.max(stored.servers, requested.servers), workers: Math.max(stored.workers, requested.workers), wait: requested.wait };
}

export async function up(options: UpOptions): Promise<ClusterStatus> {
  const { provider, reporter, signal } = options;
  await provider.ping();
  return withClusterLock(
    options.spec.name,
    async () => {
      const names = clusterNames(options.spec.name);
      const observed = await observeCluster(provider, names.cluster);
      const spec = effectiveSpec(options.spec, observed);
      const deadline = Date.now() + (parseDuration(spec.wait) ?? 300_000);
      const distribution = distributionFor(spec.distribution);
      // Everything that can refuse the request does so before the first object is created.
      if (distribution.name !== 'none') await runStep(reporter, `${distribution.name} assets`, (progress) => distribution.preflight(spec, (detail) => progress.update(detail)));
      else await distribution.preflight(spec);
      const ports = await planPorts(provider, spec, observed);
      throwIfAborted(signal);

      const derived = await distribution.nodeImage(spec, nodeImageOf(spec));
      const nodeImage = await runStep(reporter, 'images', () => ensureImages(provider, reporter, { node: nodeImageOf(spec), box: boxImageOf(spec) }, derived));
      throwIfAborted(signal);
      const subnet = await runStep(reporter, `network ${names.network}`, () => ensureNetwork(provider, spec, names, observed, ports));
      const context: ClusterContext = { provider, spec, names, subnet, ports, distribution, nodeImage, ...(signal ? { signal } : {}) };
      const machines = withNames(desiredMachines(spec, observed, subnet), names);
      throwIfAborted(signal);

      await runStep(reporter, `box ${names.box}`, () => ensureBox(context, observed, machines));
      throwIfAborted(signal);

      const existing = new Map(observed.machines.map((machine) => [machine.container.name, machine.container]));
      const started = await runStep(reporter, `machines (${machines.length})`, (progress) => ensureMachinesRunning(context, machines, existing, (detail) => progress.update(detail)));
      await runStep(reporter, 'boot', (progress) => waitForMachines(context, machines, started, deadline, (detail) => progress.update(detail)));
      throwIfAborted(signal);

      if (distribution.name !== 'none') {
        await runStep(reporter, `install ${distribution.name}`, (progress) => distribution.install(distributionContext(context, machines, (detail) => progress.update(detail), deadline)));
      }
      if (distribution.kubernetes) {
        const kubeconfig = await runStep(reporter, 'wait for Kubernetes', (progress) => waitUntilReady(context, machines, deadline, (detail) => progress.update(detail)));
        const registry = clusterRegistry(spec, names, ports);
        if (kubeconfig && registry) await publishLocalRegistry(kubeconfig, registry);
        if (options.kubeconfig !== undefined && kubeconfig) {
          const server = apiServerUrl(ports, boxAddress(subnet), options.kubeconfig.apiAddress);
          const written = await writeUserKubeconfig(server === apiServerUrl(ports, boxAddress(subnet), 'localhost') ? kubeconfig : await clusterKubeconfigAt(context, machines, server), options.kubeconfig);
          reporter.info(`kubeconfig: context ${names.kubeContext} in ${written}`);
        }
      }
      if (options.snapshot !== false && !(await snapshotExists(provider, names.cluster, CLEAN_SNAPSHOT))) {
        await captureSnapshot(provider, await observeCluster(provider, names.cluster), CLEAN_SNAPSHOT, reporter);
      }
      return clusterStatus(provider, names.cluster);
    },
    { onWait: (pid) => reporter.warn(`waiting for another kiab command on cluster ${options.spec.name} (pid ${pid})`) },
  );
}
