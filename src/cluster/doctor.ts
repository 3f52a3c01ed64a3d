import { hostArch } from '../assets/cache.js';
import { distributionFor, type Distribution } from '../distribution/index.js';
import { KiabError } from '../errors.js';
import { capabilitiesFinding } from '../host/capabilities.js';
import { cgroupFinding } from '../host/cgroup.js';
import { diskFinding, freeBytes } from '../host/disk.js';
import { engineFinding } from '../host/engine.js';
import { engineProcesses } from '../host/engine-process.js';
import { fail, notLocal, ok, warn, type Finding } from '../host/finding.js';
import { goFinding, goVersion } from '../host/go.js';
import { iptablesBackend, iptablesFinding } from '../host/iptables.js';
import { hasKmsg, kernelFeatures, kernelFindings, kmsgFinding } from '../host/kernel.js';
import { inotifyFinding, inotifyUsage } from '../host/inotify.js';
import { ipvsFinding, ipvsSupport } from '../host/ipvs.js';
import { ipv6Enabled, ipv6Finding } from '../host/ipv6.js';
import { nofileFinding } from '../host/limits.js';
import type { MachineRole } from '../labels.js';
import type { EngineInfo, Provider } from '../provider/types.js';
import { clusterSpecSchema, type KubeProxyMode } from '../spec/schema.js';
import { cacheRoot, listCachedAssets } from './assets.js';

export type { Finding };

export interface DoctorReport {
  /** Nothing blocks `kiab up`: no finding failed. */
  ready: boolean;
  checks: Finding[];
}

/** Machines about to be started, of one distribution: what the host must have room for. */
interface Starting {
  distribution: Distribution;
  machines: Array<{ role: MachineRole }>;
  /** The kube-proxy mode the cluster asks for: ipvs needs the host's kernel to have IPVS. */
  kubeProxyMode?: KubeProxyMode;
}

function describe({ distribution, machines }: Starting): string {
  const servers = machines.filter((machine) => machine.role === 'server').length;
  const workers = machines.length - servers;
  const parts = [servers ? `${servers} server${servers > 1 ? 's' : ''}` : '', workers ? `${workers} worker${workers > 1 ? 's' : ''}` : ''].filter(Boolean);
  return `${parts.join(' + ')} of ${distribution.name}`;
}

/** What doctor says of a check that needs the engine's answer when there is none. */
function unasked(id: string): Finding {
  return warn(id, 'not checked: the engine did not answer (see the engine check)', null);
}

/**
 * The checks that can fail, each of which would stop `up` part-way: doctor runs them for what a plain
 * `kiab up` makes, and up, node add and node start for the machines they start, before creating anything.
 * What kiab cannot see (an engine on another host) is reported, never refused on a guess.
 */
async function blockingChecks(provider: Provider, engine: EngineInfo | undefined, starting: Starting): Promise<Finding[]> {
  const uid = provider.localUid;
  const need = { instances: 0, watches: 0 };
  for (const machine of starting.machines) {
    const each = starting.distribution.inotifyNeed(machine.role);
    need.instances += each.instances;
    need.watches += each.watches;
  }
  const disk = async (): Promise<Finding> => {
    if (uid === undefined) return notLocal('disk', 'disk', provider.endpoint);
    if (!engine) return unasked('disk');
    if (engine.rootDir === undefined) return warn('disk', 'not checked: the engine does not say where it keeps its data', null);
    return diskFinding(engine.rootDir, await freeBytes(engine.rootDir));
  };
  return [
    uid === undefined ? notLocal('kmsg', '/dev', provider.endpoint) : kmsgFinding(await hasKmsg()),
    uid === undefined ? notLocal('inotify', 'inotify limits', provider.endpoint) : inotifyFinding(await inotifyUsage(uid), need, describe(starting)),
    await disk(),
    ...(starting.kubeProxyMode === 'ipvs' ? [uid === undefined ? notLocal('ipvs', 'kernel', provider.endpoint) : ipvsFinding(await ipvsSupport(), true)] : []),
  ];
}

/**
 * Refuses, before anything is created, machines this host cannot run, naming the cause and the fix (the
 * sysctl and a value, the device, the space), instead of a machine or a join that fails minutes later.
 */
export async function ensureHostReady(
  provider: Provider,
  distribution: Distribution,
  starting: Array<{ role: MachineRole }>,
  kubeProxyMode?: KubeProxyMode,
): Promise<void> {
  if (starting.length === 0) return;
  const engine = await provider.ping();
  const checks = await blockingChecks(provider, engine, { distribution, machines: starting, ...(kubeProxyMode ? { kubeProxyMode } : {}) });
  const failed = [engineFinding(provider.endpoint, engine), ...checks].find((finding) => finding.status === 'fail');
  if (failed) throw new KiabError(failed.message, { hint: failed.fix ?? undefined });
}

/** The cluster a plain `kiab up` makes: what doctor measures the host against. */
function defaultCluster(): Starting & { version: string | undefined } {
  const spec = clusterSpecSchema.parse({});
  const distribution = distributionFor(spec.distribution);
  const machines = [...Array<MachineRole>(spec.servers).fill('server'), ...Array<MachineRole>(spec.workers).fill('worker')].map((role) => ({ role }));
  return { distribution, machines, version: distribution.defaultVersion };
}

/** Whether the assets a plain `kiab up` uses are cached and verified; a set that does not verify blocks `up`. */
async function assetsFinding(cluster: ReturnType<typeof defaultCluster>): Promise<Finding> {
  const name = cluster.distribution.name;
  if (cluster.version === undefined) return ok('assets', `${name} needs no assets`);
  const set = (await listCachedAssets()).find((row) => row.distribution === name && row.version === cluster.version && row.arch === hostArch());
  const what = `${name} ${cluster.version} assets`;
  if (set?.verified) return ok('assets', `${what} are cached and verified (${set.origin}) in ${set.path}`);
  if (set)
    return fail(
      'assets',
      `${what} in ${set.path} do not verify (${set.problem}): \`kiab up\` refuses them`,
      `remove them with \`kiab assets rm ${name} ${cluster.version}\`, then run \`kiab assets pull --k8s ${name}\` or build them again`,
    );
  return warn(
    'assets',
    `no ${what} in ${cacheRoot()}: \`kiab up\` downloads the release first, which needs network`,
    `where there is network, \`kiab assets pull --k8s ${name}\`; without, \`kiab assets build --k8s kubeadm\` (needs Go) or \`kiab assets import FILE\` of a set exported elsewhere`,
  );
}

/** What else matters to kiab on the engine's host: none of it stops `up`, each says what kiab does about it. */
async function hostFindings(provider: Provider): Promise<Finding[]> {
  const uid = provider.localUid;
  if (uid === undefined)
    return ['capabilities', 'nofile', 'br_netfilter', 'overlay', 'iptables', 'ipvs', 'ipv6'].map((id) =>
      notLocal(id, 'processes and kernel', provider.endpoint),
    );
  const daemons = await engineProcesses(uid);
  const bound = daemons.length ? daemons.reduce((all, daemon) => all & daemon.capabilityBound, ~0n) : undefined;
  const limits = daemons.map((daemon) => daemon.nofileHard).filter((value): value is number => value !== undefined);
  return [
    capabilitiesFinding(bound),
    nofileFinding(limits.length ? Math.min(...limits) : undefined),
    ...kernelFindings(await kernelFeatures()),
    iptablesFinding(await iptablesBackend()),
    ipvsFinding(await ipvsSupport(), false),
    ipv6Finding(await ipv6Enabled()),
  ];
}

/** The order findings are printed in: the engine first, then the host's kernel and limits, then assets. */
const ORDER = ['engine', 'cgroup', 'capabilities', 'kmsg', 'nofile', 'inotify', 'disk', 'br_netfilter', 'overlay', 'iptables', 'ipvs', 'ipv6', 'assets', 'go'];

/** `kiab doctor`: every check, each with what it means and the fix; `ready` when nothing blocks `kiab up`. */
export async function doctor(provider: Provider): Promise<DoctorReport> {
  const cluster = defaultCluster();
  const engine = await provider.ping().then(
    (info) => ({ info, finding: engineFinding(provider.endpoint, info) }),
    (error: Error & { hint?: string }) => ({ info: undefined, finding: engineFinding(provider.endpoint, { error }) }),
  );
  const [blocking, host, assets, go] = await Promise.all([
    blockingChecks(provider, engine.info, cluster),
    hostFindings(provider),
    assetsFinding(cluster),
    goVersion(),
  ]);
  const checks = [
    engine.finding,
    engine.info ? cgroupFinding(engine.info) : unasked('cgroup'),
    ...blocking,
    ...host,
    assets,
    goFinding(go, assets.status === 'ok'),
  ];
  checks.sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));
  return { ready: checks.every((check) => check.status !== 'fail'), checks };
}
