import { hostArch, verifiedAssets, type AssetManifest } from '../../assets/cache.js';
import { importImageArchives } from '../../assets/images.js';
import { KiabError, RunError, UsageError } from '../../errors.js';
import { goOnPath } from '../../host/go.js';
import { readPackageFile } from '../../package-files.js';
import { run, tryRun } from '../../provider/run.js';
import { poll } from '../../wait.js';
import type { DistributionContext, MachineRef, UpgradeSteps } from '../types.js';
import { MACHINE_BINARIES, roleImages } from './assets.js';
import { CTR, IGNORED_PREFLIGHT, KUBEADM_PATCHES_DIR, KUBECTL } from './config.js';
import { minorOf, nextMinorRelease, resolveRelease } from './releases.js';
import { stageBinaries, swapBinaries } from './release-binaries.js';
import { settleKubeadm } from './settle.js';
import { writePatches } from './patch-files.js';

/*
 * An in-place upgrade the way kubeadm documents it: the new release's kubeadm applies the upgrade from the
 * first server, the other servers follow with `kubeadm upgrade node`, and every machine then gets the new
 * kubelet, kubectl and kube-proxy and restarts them. A kubelet restart stops no container, so a node's pods
 * keep serving through it. Every step looks before it acts, so an interrupted upgrade is finished by the next.
 */

/** Runs a server's `kubeadm upgrade` and breaks the wait on etcd's replacement inside it (see the script). */
const UPGRADE_SCRIPT = {
  path: '/etc/kiab/kiab-kubeadm-upgrade.sh',
  content: readPackageFile('src/distribution/kubeadm/files/kiab-kubeadm-upgrade.sh'),
  mode: 0o755,
};

/** How long a drain waits for evictions: what a PodDisruptionBudget keeps stays, and keeps running through the kubelet's restart. */
const DRAIN_TIMEOUT = '60s';

interface NodeObject {
  metadata: { name: string };
  spec: { unschedulable?: boolean; taints?: Array<{ effect: string }> };
}

/** Whether a node other than `machine` takes new pods: not cordoned, and no taint that keeps pods off. */
async function otherNodeTakesPods(context: DistributionContext, machine: MachineRef): Promise<boolean> {
  const nodes = (JSON.parse(await kubectlSettled(context, ['get', 'nodes', '-o', 'json'], 'listing the nodes')) as { items: NodeObject[] }).items;
  return nodes.some(
    (node) =>
      node.metadata.name !== machine.name &&
      !node.spec.unschedulable &&
      !(node.spec.taints ?? []).some((taint) => taint.effect === 'NoSchedule' || taint.effect === 'NoExecute'),
  );
}

async function releaseAssets(version: string): Promise<{ dir: string; manifest: AssetManifest }> {
  const found = await verifiedAssets({ distribution: 'kubeadm', version, arch: hostArch() });
  if (found) return found;
  const build = goOnPath() ? `\`kiab assets build --k8s kubeadm --k8s-version ${version}\` builds them from source, or ` : '';
  throw new KiabError(`no kubeadm assets for Kubernetes ${version} in the cache; nothing was changed`, {
    hint: `${build}\`kiab assets pull --k8s kubeadm --k8s-version ${version}\` downloads them; then run the upgrade again`,
  });
}

/** The release's binaries in place of the machine's (see release-binaries.ts). */
async function placeBinaries(context: DistributionContext, machine: MachineRef, version: string, binaries: readonly string[]): Promise<void> {
  await stageBinaries(context, machine, (await releaseAssets(version)).dir, version, binaries);
  await swapBinaries(context, machine, version, binaries);
}

async function kubeadmRuns(context: DistributionContext, machine: MachineRef): Promise<string> {
  return (await run(context.provider, machine.name, ['kubeadm', 'version', '-o', 'short'], { what: 'reading the kubeadm version' })).stdout.trim();
}

/** How long a cluster request may keep failing while an upgrade restarts API servers before it counts. */
const API_SETTLE_MS = 60_000;

/**
 * kubectl as the cluster admin on a server (every server holds admin.conf), tried again for a while: an
 * upgrade restarts API servers, and one that has just started refuses requests until it has read its
 * authorization rules.
 */
async function kubectlSettled(context: DistributionContext, args: string[], what: string): Promise<string> {
  const via = context.machines.find((machine) => machine.role === 'server');
  if (!via) throw new KiabError(`cluster ${context.spec.name} has no server`);
  let last: RunError | undefined;
  return poll(
    async () => {
      const result = await tryRun(context.provider, via.name, [...KUBECTL, ...args]);
      if (result.exitCode === 0) return result.stdout;
      last = new RunError({
        where: via.name,
        command: ['kubectl', ...args].join(' '),
        status: result.exitCode,
        output: `${result.stderr}\n${result.stdout}`,
        what,
      });
      return undefined;
    },
    {
      interval: 1000,
      deadline: Math.min(context.deadline, Date.now() + API_SETTLE_MS),
      ...(context.signal ? { signal: context.signal } : {}),
      timeout: () => last ?? new KiabError(`${what}: the API did not answer`),
    },
  );
}

export const kubeadmUpgrade: UpgradeSteps = {
  target: async (from, asked) => {
    const target = resolveRelease(asked).version;
    const [fromMinor, toMinor] = [minorOf(from), minorOf(target)];
    const patch = (version: string): number => Number(version.split('.')[2]);
    if (toMinor < fromMinor || (toMinor === fromMinor && patch(target) < patch(from)))
      throw new UsageError(
        `--k8s-version: the cluster runs ${from}, and upgrade does not go back to ${target}`,
        'a snapshot taken before an upgrade goes back: see `kiab snapshot list`',
      );
    if (toMinor > fromMinor + 1) {
      const next = nextMinorRelease(from)?.version ?? `1.${fromMinor + 1}`;
      throw new UsageError(`--k8s-version: Kubernetes upgrades one minor at a time; upgrade from ${from} to ${next} first, then to ${target}`);
    }
    await releaseAssets(target);
    return target;
  },
  agentRuns: async (context, machine) => {
    const printed = (await run(context.provider, machine.name, ['kubelet', '--version'], { what: 'reading the kubelet version' })).stdout;
    const version = /v\d+\.\d+\.\d+/.exec(printed)?.[0];
    if (!version) throw new KiabError(`${machine.name}: the kubelet printed no version (${printed.trim()})`);
    return version;
  },
  controlPlaneRuns: async (context, server, version) =>
    (await tryRun(context.provider, server.name, ['grep', '-q', `kube-apiserver:${version}`, '/etc/kubernetes/manifests/kube-apiserver.yaml'])).exitCode === 0,
  loadImages: async (context, machine, version) => {
    const { dir, manifest } = await releaseAssets(version);
    await importImageArchives(context.provider, machine.name, CTR, dir, roleImages(manifest, machine.role));
  },
  upgradeControlPlane: async (context, server, first, version) => {
    await settleKubeadm(context, server);
    if ((await kubeadmRuns(context, server)) !== version) {
      await placeBinaries(context, server, version, ['kubeadm']);
    }
    await writePatches(context.provider, server);
    await context.provider.writeFiles(server.name, [UPGRADE_SCRIPT]);
    // kube-proxy runs as a machine service with kiab's configuration, not as kubeadm's addon.
    const command = first
      ? ['kubeadm', 'upgrade', 'apply', version, '--yes', '--skip-phases', 'addon/kube-proxy']
      : ['kubeadm', 'upgrade', 'node', '--skip-phases', 'addon/kube-proxy'];
    const options = ['--patches', KUBEADM_PATCHES_DIR, `--ignore-preflight-errors=${IGNORED_PREFLIGHT.join(',')}`];
    await run(context.provider, server.name, [UPGRADE_SCRIPT.path, ...command, ...options], {
      what: `${command.slice(0, 3).join(' ')} on ${server.name}`,
    });
  },
  drain: async (context, machine) => {
    await kubectlSettled(context, ['cordon', machine.name], `cordoning ${machine.name}`);
    // Where no other node takes pods, an evicted pod's replacement could not start: its capacity would be lost
    // until the uncordon, and a budget would block the next eviction for good. The pods stay instead.
    if (!(await otherNodeTakesPods(context, machine))) {
      context.warn(`${machine.name}: no other node takes its pods, so they stay and keep running through the kubelet's restart`);
      return;
    }
    const drain = ['drain', machine.name, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${DRAIN_TIMEOUT}`];
    await kubectlSettled(context, drain, `draining ${machine.name}`).catch((error: unknown) => {
      if (!(error instanceof RunError)) throw error;
      context.warn(
        `${machine.name}: not every pod could leave (${error.message.split('\n').pop() ?? ''}); those stay and keep running through the kubelet's restart`,
      );
    });
  },
  upgradeNodeAgent: async (context, machine, version) => {
    // A worker takes the new release's kubelet configuration; a server took it with its control plane.
    if (machine.role === 'worker') {
      await settleKubeadm(context, machine);
      if ((await kubeadmRuns(context, machine)) !== version) {
        await placeBinaries(context, machine, version, ['kubeadm']);
      }
      await run(context.provider, machine.name, ['kubeadm', 'upgrade', 'node', `--ignore-preflight-errors=${IGNORED_PREFLIGHT.join(',')}`], {
        what: `kubeadm upgrade node on ${machine.name}`,
      });
    }
    const binaries = MACHINE_BINARIES.filter((binary) => binary !== 'kubeadm');
    await placeBinaries(context, machine, version, binaries);
    await run(context.provider, machine.name, ['systemctl', 'restart', 'kubelet.service', 'kube-proxy.service'], {
      what: `restarting the kubelet of ${machine.name}`,
    });
  },
  uncordon: async (context, machine) => {
    await kubectlSettled(context, ['uncordon', machine.name], `uncordoning ${machine.name}`);
  },
};
