import type { MachineRef } from '../../distribution/index.js';
import { KiabError, throwIfAborted, UsageError } from '../../errors.js';
import type { Provider } from '../../provider/types.js';
import { runStep, type Reporter } from '../../reporter.js';
import { parseDuration } from '../../spec/duration.js';
import { distributionContext, loadCluster, type LoadedCluster } from '../context.js';
import { withClusterLock } from '../lock.js';
import { refreshBox } from './box.js';
import { readSpecLabel } from './observe.js';
import { forEachBounded } from '../../parallel.js';
import { waitUntilReady } from '../kubernetes/wait-ready.js';
import { captureSnapshot, CLEAN_SNAPSHOT, snapshotExists } from '../snapshot/snapshot.js';
import { clusterStatus, type ClusterStatus } from '../status.js';
import { recordVersion } from './version-record.js';
import { untilNodeReports } from './node-reports.js';

export interface UpgradeOptions {
  provider: Provider;
  name: string;
  /** As the user typed it: a release or a minor. */
  version: string;
  reporter: Reporter;
  signal?: AbortSignal;
}

export interface UpgradeResult {
  from: string;
  to: string;
  /** False when the cluster ran the version already: nothing was done. */
  changed: boolean;
  /** The snapshot that goes back to `from`. */
  snapshot: string;
  /** What `kiab reset` returns to: the snapshot `up` took, at the version the cluster was made with. */
  resetReturnsTo: string;
  status: ClusterStatus;
}

/** The snapshot an upgrade from `version` takes first. */
export const preUpgradeSnapshot = (version: string): string => `pre-upgrade-${version}`;

/** Each machine's step gets the spec's whole `wait`: an upgrade of many machines takes longer than one wait. */
function forOneMachine(cluster: LoadedCluster): LoadedCluster {
  return { ...cluster, deadline: Date.now() + (parseDuration(cluster.spec.wait) ?? 300_000) };
}

/** Every machine must run: an upgrade changes each, and a stopped one would be left behind. */
function requireRunning(cluster: LoadedCluster): void {
  const stopped = cluster.observed.machines.filter((machine) => machine.container.state !== 'running').map((machine) => machine.container.name);
  if (stopped.length)
    throw new KiabError(`cluster ${cluster.spec.name}: ${stopped.join(', ')} not running; nothing was changed`, {
      hint: `start it with \`kiab up ${cluster.spec.name}\`, then upgrade`,
    });
}

/**
 * `kiab upgrade`: the cluster's Kubernetes to the next release, in place, as ordered steps that each look
 * before they act. A snapshot first (so `snapshot restore` goes back), the release's images into every machine
 * before anything changes, the control plane server by server, then the workers one at a time (drained, new
 * node agent, uncordoned). Ctrl-C is taken between machines, never inside one; running it again finishes an
 * interrupted upgrade.
 */
export async function upgradeCluster(options: UpgradeOptions): Promise<UpgradeResult> {
  const { provider, reporter, signal } = options;
  await provider.ping();
  return withClusterLock(
    options.name,
    async () => {
      const cluster = await loadCluster(provider, options.name, signal ? { signal } : {});
      const steps = cluster.distribution.upgrade;
      const from = cluster.spec.kubernetesVersion;
      if (!steps || !from) throw new UsageError(`NAME: cluster ${options.name} runs ${cluster.spec.distribution}, which kiab cannot upgrade in place`);
      const to = await steps.target(from, options.version);
      const madeWith = readSpecLabel(cluster.observed.network?.labels) ?? cluster.spec;
      const resetReturnsTo = `${CLEAN_SNAPSHOT} (Kubernetes ${madeWith.kubernetesVersion ?? from}, as up made it)`;
      const snapshot = preUpgradeSnapshot(from);
      requireRunning(cluster);
      const context = distributionContext(cluster, cluster.machines);
      const servers = cluster.machines.filter((machine) => machine.role === 'server');
      const workers = cluster.machines.filter((machine) => machine.role === 'worker');
      const behind = async (machine: MachineRef): Promise<boolean> => (await steps.agentRuns(context, machine)) !== to;
      if (to === from && !(await Promise.all(cluster.machines.map(behind))).some(Boolean))
        return { from, to, changed: false, snapshot, resetReturnsTo, status: await clusterStatus(provider, options.name) };

      // A snapshot taken by an interrupted run is the one to go back to: it holds the cluster before any change.
      if (!(await snapshotExists(provider, options.name, snapshot))) {
        await captureSnapshot(provider, cluster.observed, snapshot, reporter, signal);
        await runStep(reporter, 'wait for Kubernetes', (progress) =>
          waitUntilReady(cluster, cluster.machines, (detail) => progress.update(detail), { healthyLooks: 1 }),
        );
      }
      throwIfAborted(signal);
      await runStep(reporter, `load Kubernetes ${to} images into ${cluster.machines.length} machines`, () =>
        forEachBounded(cluster.machines, 4, (machine) => steps.loadImages(context, machine, to), signal),
      );

      /**
       * After each machine: the API answers through the box and every node is Ready, three looks in a row (an API
       * server the change restarted is seen to stay up); the upgrade goes on only from a healthy cluster.
       */
      const healthy = async (step: LoadedCluster, machine: MachineRef, progress: (detail: string) => void): Promise<void> => {
        const kubeconfig = await waitUntilReady(step, step.machines, progress);
        if (!kubeconfig) return;
        // Ready says nothing of the version: the node must report the new agent (see untilNodeReports).
        const restart = cluster.distribution.restartNodeAgent;
        const stepContext = distributionContext(step, step.machines);
        await untilNodeReports(kubeconfig, machine, to, restart ? () => restart(stepContext, machine) : undefined, {
          deadline: step.deadline,
          ...(signal ? { signal } : {}),
          progress,
        });
      };
      for (const [index, server] of servers.entries()) {
        throwIfAborted(signal);
        const step = forOneMachine(cluster);
        await runStep(reporter, `upgrade ${server.name} to ${to}`, async (progress) => {
          const stepContext = distributionContext(step, step.machines, { progress, reporter, controlPlaneUp: () => refreshBox(step, step.machines) });
          if (!(await steps.controlPlaneRuns(stepContext, server, to))) {
            progress.update(index === 0 ? 'kubeadm upgrade apply' : 'kubeadm upgrade node');
            await steps.upgradeControlPlane(stepContext, server, index === 0, to);
          }
          if (await behind(server)) {
            progress.update('new kubelet');
            await steps.upgradeNodeAgent(stepContext, server, to);
          }
          await healthy(step, server, (detail) => progress.update(detail));
        });
      }
      for (const worker of workers) {
        throwIfAborted(signal);
        const step = forOneMachine(cluster);
        await runStep(reporter, `upgrade ${worker.name} to ${to}`, async (progress) => {
          const stepContext = distributionContext(step, step.machines, { progress, reporter, controlPlaneUp: () => refreshBox(step, step.machines) });
          if (await behind(worker)) {
            progress.update('drain');
            await steps.drain(stepContext, worker);
            progress.update('new kubelet');
            await steps.upgradeNodeAgent(stepContext, worker, to);
          }
          // Also after a run killed between the kubelet's restart and this.
          await steps.uncordon(stepContext, worker);
          await healthy(step, worker, (detail) => progress.update(detail));
        });
      }
      await recordVersion(provider, cluster.names, madeWith, to, true);
      return { from, to, changed: true, snapshot, resetReturnsTo, status: await clusterStatus(provider, options.name) };
    },
    { engine: provider.endpoint, reporter, ...(signal ? { signal } : {}) },
  );
}
