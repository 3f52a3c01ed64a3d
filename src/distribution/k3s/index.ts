import { refuseUnsupported } from '../shape-support.js';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostArch } from '../../assets/cache.js';
import { isAbort, KiabError, UsageError } from '../../errors.js';
import { run, tryRun } from '../../provider/run.js';
import type { Provider } from '../../provider/types.js';
import { runStep, silentReporter, type Reporter } from '../../reporter.js';
import { poll } from '../../wait.js';
import { cachedK3sAssets, importK3sAssets, pullK3sAssets, type K3sAssets } from './assets.js';
import { DEFAULT_K3S_VERSION, k3sAssetNames, k3sRequestVersion } from './release.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { deleteNode, drainNode, firstServer, remainingServer } from '../nodes.js';
import { K3S_BUNDLED_ADDONS, k3sDisabled } from './addons.js';
import type { Distribution, DistributionContext, MachineRef } from '../types.js';
import {
  joinPlan,
  k3sConfig,
  k3sRegistries,
  K3S_CONFIG_PATH,
  K3S_ENV_PATH,
  K3S_KUBECONFIG_PATH,
  K3S_SERVER_CA_PATH,
  K3S_REGISTRIES_PATH,
  K3S_ROLE_PATH,
  K3S_TOKEN_PATH,
  type K3sFacts,
} from './config.js';
import { K3S_SERVICE } from './units.js';

const CTR = ['ctr', '--address', '/run/k3s/containerd/containerd.sock', '--namespace', 'k8s.io'];
const KUBECTL = ['k3s', 'kubectl'];
const AIRGAP_DIR = '/var/lib/rancher/k3s/agent/images';

export function k3sVersion(spec: ClusterSpec): string {
  return spec.kubernetesVersion ?? DEFAULT_K3S_VERSION;
}

/** Cached and verified assets, downloading what is missing; refuses with every way out when it cannot. */
export async function k3sAssets(spec: ClusterSpec, reporter: Reporter = silentReporter, signal?: AbortSignal): Promise<K3sAssets> {
  const version = k3sVersion(spec);
  const arch = hostArch();
  const cached = await cachedK3sAssets(version, arch);
  if (cached) return cached;
  try {
    return await runStep(reporter, `download k3s ${version}`, (progress) => pullK3sAssets(version, arch, (detail) => progress.update(detail), signal));
  } catch (error) {
    if (isAbort(error)) throw error;
    const names = k3sAssetNames(arch);
    throw new KiabError(
      `no k3s ${version} assets (${names.binary}, ${names.sums}, ${names.images}) in the cache, and downloading them failed: ${(error as Error).message}`,
      {
        hint: `run \`kiab assets pull --k8s k3s --k8s-version ${version}\` where there is network, or copy the files in with \`kiab assets import --k8s-version ${version} FILE...\`; \`--k8s none\` gives bare machines`,
        cause: error,
      },
    );
  }
}

function facts(context: DistributionContext): K3sFacts {
  const servers = context.machines.filter((machine) => machine.role === 'server');
  return {
    boxHostname: context.box.hostname,
    boxIp: context.box.ip,
    externalAddresses: context.externalAddresses,
    highAvailability: servers.length > 1 || context.spec.servers > 1,
    untaintServers: !context.machines.some((machine) => machine.role === 'worker'),
    disable: k3sDisabled(context.spec),
  };
}

async function exists(provider: Provider, machine: string, path: string): Promise<boolean> {
  return (await tryRun(provider, machine, ['test', '-s', path])).exitCode === 0;
}

/** The cluster token: the one the first server already uses, or a new crypto-random one. Never printed. */
async function clusterToken(context: DistributionContext): Promise<string> {
  const first = firstServer(context);
  // Either file may be absent (k3s not started yet, or a fresh cluster): that is an answer, not a failure.
  const current = await tryRun(context.provider, first.name, ['cat', K3S_TOKEN_PATH]);
  if (current.exitCode === 0 && current.stdout.trim()) return current.stdout.trim();
  const env = await tryRun(context.provider, first.name, ['cat', K3S_ENV_PATH]);
  const match = /^K3S_TOKEN=(.+)$/m.exec(env.stdout);
  return match?.[1] ?? randomBytes(32).toString('hex');
}

async function configure(context: DistributionContext, machine: MachineRef, token: string): Promise<void> {
  const plan = joinPlan(machine, firstServer(context), facts(context));
  await context.provider.writeFiles(machine.name, [
    { path: K3S_CONFIG_PATH, content: k3sConfig(machine, plan, facts(context)) },
    { path: K3S_ENV_PATH, content: `K3S_TOKEN=${token}\n`, mode: 0o600 },
    { path: K3S_ROLE_PATH, content: `K3S_ROLE=${plan.role}\n` },
  ]);
}

/** Starts k3s without waiting on it: readiness (and its failure, with the journal) is judged at the deadline. */
async function start(context: DistributionContext, machine: MachineRef): Promise<void> {
  await run(context.provider, machine.name, ['systemctl', 'enable', '--now', '--no-block', 'k3s.service'], { what: 'starting k3s' });
}

async function journal(provider: Provider, machine: MachineRef): Promise<string> {
  return (await tryRun(provider, machine.name, ['journalctl', '-u', 'k3s', '-n', '12', '--no-pager', '-o', 'cat'])).stdout.trim();
}

/** Waits for the first server to write its kubeconfig, showing its journal if the deadline passes first. */
async function waitForFirstServer(context: DistributionContext, first: MachineRef): Promise<void> {
  await poll(async () => ((await exists(context.provider, first.name, K3S_KUBECONFIG_PATH)) ? true : undefined), {
    interval: 1000,
    deadline: context.deadline,
    ...(context.signal ? { signal: context.signal } : {}),
    timeout: async () => {
      const lines = (await journal(context.provider, first)).split('\n').slice(-8).join(' | ');
      return new KiabError(`k3s did not start on ${first.name} before the deadline; last lines of its journal: ${lines}`, {
        hint: `see all of it with \`kiab exec ${first.name} -- journalctl -u k3s\`, or raise --wait`,
      });
    },
  });
}

const DOCKERFILE = (imagesName: string): string => `ARG BASE
FROM \${BASE}
COPY k3s /usr/local/bin/k3s
COPY k3s.service /etc/systemd/system/k3s.service
# Docker fills a new named volume from the image, so every machine's k3s volume starts with the air-gap
# images in the directory k3s imports from: no pull, no copy per machine.
COPY ${imagesName} ${AIRGAP_DIR}/${imagesName}
RUN ln -sf k3s /usr/local/bin/kubectl && ln -sf k3s /usr/local/bin/crictl \\
 && systemctl disable containerd.service && mkdir -p /etc/rancher/k3s /etc/kiab
`;

/** k3s, a single binary running the whole of Kubernetes, from release assets kept verified in the cache. */
export const k3sDistribution: Distribution = {
  name: 'k3s',
  defaultVersion: DEFAULT_K3S_VERSION,
  resolveVersion: (asked) => k3sRequestVersion(asked === undefined || asked.startsWith('v') ? asked : `v${asked}`),
  kubernetes: true,
  cleanAsCreated: false,
  bundledAddons: K3S_BUNDLED_ADDONS,
  systemPods: ['coredns'],
  preflight: async ({ spec, reporter, signal }) => {
    // k3s runs its own containerd and its own components' flags: labels and taints are set through the API.
    refuseUnsupported(spec, 'k3s', [
      'featureGates',
      'runtimeConfig',
      'kubeadmConfigPatches',
      'containerdConfigPatches',
      'registries',
      'apiServer',
      'kubernetesVersion',
    ]);
    await k3sAssets(spec, reporter, signal);
  },
  nodeImage: async (spec, baseNodeImage) => {
    const assets = await k3sAssets(spec);
    const arch = hostArch();
    const names = k3sAssetNames(arch);
    const hash = createHash('sha256').update(baseNodeImage).update(DOCKERFILE(names.images)).update(K3S_SERVICE);
    for (const file of Object.values(assets.manifest.files)) hash.update(file.sha256);
    return {
      tag: `kiab/node-k3s:${k3sVersion(spec).replace(/\+/g, '-')}-${hash.digest('hex').slice(0, 12)}`,
      files: async () => [
        { path: 'Dockerfile', content: DOCKERFILE(names.images) },
        { path: 'k3s.service', content: K3S_SERVICE },
        { path: 'k3s', content: await readFile(assets.binary), mode: 0o755 },
        { path: names.images, content: await readFile(assets.images) },
      ],
    };
  },
  // Not measured here (k3s cannot run on this host): one process for the whole server keeps it below kubeadm's.
  inotifyNeed: (role) => (role === 'server' ? { instances: 24, watches: 400 } : { instances: 14, watches: 200 }),
  machineVolumes: () => [
    { purpose: 'k3s', path: '/var/lib/rancher/k3s' },
    { purpose: 'kubelet', path: '/var/lib/kubelet' },
  ],
  // k3s refuses anonymous requests, /readyz included; its supervisor answers /ping on the same port (not run here: k3s cannot run on this host).
  health: { apiPath: '/ping', nodeProxy: { port: 10256, path: '/healthz' } },
  apiCertificateAuthority: async (provider, machines) => {
    for (const server of machines.filter((machine) => machine.role === 'server')) {
      const ca = await tryRun(provider, server.name, ['cat', K3S_SERVER_CA_PATH]);
      if (ca.exitCode === 0 && ca.stdout.includes('BEGIN CERTIFICATE')) return ca.stdout;
    }
    return undefined;
  },
  machineFiles: (context) => [
    {
      path: K3S_REGISTRIES_PATH,
      content: k3sRegistries(context.registry, context.registryCredentials),
      ...(context.registryCredentials ? { mode: 0o600 } : {}),
    },
  ],
  install: async (context) => {
    const first = firstServer(context);
    const token = await clusterToken(context);
    await Promise.all(context.machines.map((machine) => configure(context, machine, token)));
    context.progress(`starting k3s on ${first.name}`);
    await start(context, first);
    context.progress(`waiting for the k3s API on ${first.name}`);
    await waitForFirstServer(context, first);
    await context.controlPlaneUp();
    const others = context.machines.filter((machine) => machine.name !== first.name);
    // Servers join one at a time (embedded etcd grows one member at a time); agents together.
    for (const server of others.filter((machine) => machine.role === 'server')) {
      context.progress(`starting k3s on ${server.name}`);
      await start(context, server);
    }
    const agents = others.filter((machine) => machine.role === 'worker');
    if (agents.length) context.progress(`starting k3s on ${agents.length} workers`);
    await Promise.all(agents.map((agent) => start(context, agent)));
  },
  join: async (context, machine) => {
    await configure(context, machine, await clusterToken(context));
    await start(context, machine);
  },
  leave: async (context, machine) => {
    // Done from a server that stays, so the first server can leave too: the next one takes its role.
    // Deleting the Node object also clears its node-password secret, so the name can join again.
    const via = remainingServer(context, machine);
    await drainNode(context, KUBECTL, via, machine);
    await deleteNode(context, KUBECTL, via, machine);
  },
  membershipChanged: async () => undefined,
  adminKubeconfig: async (context) => {
    // Absent until the first server has started: an answer, not a failure.
    const result = await tryRun(context.provider, firstServer(context).name, ['cat', K3S_KUBECONFIG_PATH]);
    return result.exitCode === 0 ? result.stdout : undefined;
  },
  diagnose: (context, machine) => journal(context.provider, machine),
  ctr: () => CTR,
  buildAssets: async () => {
    throw new UsageError(
      '--k8s: k3s cannot be built from source by kiab',
      'download its release with `kiab assets pull --k8s k3s`, or copy the files in with `kiab assets import`',
    );
  },
  pullAssets: async (request) => {
    const version = k3sRequestVersion(request.version);
    if (request.conformance)
      throw new UsageError(
        '--conformance: the suite comes with the kubeadm assets of the same Kubernetes version',
        `pull it with \`kiab assets pull --k8s kubeadm --k8s-version ${version.split('+')[0]!} --conformance\``,
      );
    const pulled = [];
    for (const arch of request.arches) {
      const assets = await runStep(request.reporter, `k3s ${version} ${arch}`, (progress) =>
        pullK3sAssets(version, arch, (detail) => progress.update(detail), request.signal),
      );
      pulled.push({ dir: assets.dir, manifest: assets.manifest, reused: false });
    }
    return pulled;
  },
  importAssets: async (version, files) =>
    (await importK3sAssets(k3sRequestVersion(version), files)).map((assets) => ({ dir: assets.dir, manifest: assets.manifest, reused: false })),
};
