import { checkKubeadmPatches } from './shape-check.js';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { LOCAL_PATH_DIR, networkPolicyManifest, NETWORK_POLICY_CONTROLLER } from '../../addons/index.js';
import { hostArch, verifiedAssets, type AssetManifest } from '../../assets/cache.js';
import { importImageArchives } from '../../assets/images.js';
import { isAbort, KiabError, throwIfAborted, UsageError } from '../../errors.js';
import { goOnPath } from '../../host/go.js';
import { inotifyHint } from '../../host/inotify.js';
import { forEachBounded } from '../../parallel.js';
import { settleAll } from '../../settle.js';
import { fileExists, run, tryRun } from '../../provider/run.js';
import type { Provider } from '../../provider/types.js';
import { deleteNode, drainNode, firstServer, remainingServer } from '../nodes.js';
import type { Distribution, DistributionContext, MachineRef, PreflightRequest } from '../types.js';
import { DEFAULT_KUBEADM_VERSION, kubeadmAssets, kubeadmNodeImage, kubeadmVersion, roleImages, roleImagesDigest } from './assets.js';
import { buildKubeadmAssets, pullKubeadmAssets } from './build.js';
import { buildConformanceAssets, pullConformanceAssets } from './conformance.js';
import {
  ADMIN_KUBECONFIG,
  API_PORT,
  CTR,
  KUBECTL,
  API_READY_PATH,
  DISCOVERY_KUBECONFIG,
  POD_RESOLV_CONF,
  discoveryKubeconfig,
  initConfig,
  joinConfig,
  kubeletEnvironment,
  kubeProxyConfig,
  NODE_PROXIER_BINDING,
  type ClusterFacts,
} from './config.js';
import {
  CNI_CONFIG_PATH,
  cniConfig,
  POD_NETWORK_ENV_PATH,
  POD_ROUTES_PATH,
  podCidrNodes,
  podNetworkEnvironment,
  podRoutes,
  POLICY_QUEUE_PATH,
} from './network.js';
import { networkPolicyDefinitions, networkPolicyImage, type NetworkPolicyImage } from './network-policy.js';
import { resolveRelease } from './releases.js';
import { approveServingCertificates } from './serving-certs.js';
import { otherNodeReleases, placeNodeRelease } from './node-versions.js';
import { settleKubeadm } from './settle.js';
import { kubeadmUpgrade } from './upgrade.js';
import { writePatches } from './patch-files.js';

const CONFIG_DIR = '/etc/kiab';
const CLUSTER_CA = '/etc/kubernetes/pki/ca.crt';
const ETCD_DATA_DIR = '/var/lib/etcd';

function facts(context: DistributionContext): ClusterFacts {
  return {
    clusterName: context.names.kubeContext,
    kubernetesVersion: kubeadmVersion(context.spec),
    boxHostname: context.box.hostname,
    boxIp: context.box.ip,
    externalAddresses: context.externalAddresses,
    controlPlaneEndpoint: `${context.box.hostname}:${API_PORT}`,
    untaintServers: !context.machines.some((machine) => machine.role === 'worker'),
    shape: context.spec,
  };
}

/**
 * Imports the images a machine's role needs, skipping those its containerd already has: a machine made from
 * the preloaded image for its role has them all (see nodeImage below).
 */
async function importImages(context: DistributionContext, machine: MachineRef): Promise<void> {
  const { dir, manifest } = await kubeadmAssets(context.spec);
  await loadRoleImages(context.provider, machine.name, machine.role, dir, manifest, await networkPolicyImage());
}

/** A role's Kubernetes images and, on every machine, the pod network's policy controller. */
async function loadRoleImages(
  provider: Provider,
  machine: string,
  role: MachineRef['role'],
  dir: string,
  manifest: AssetManifest,
  policy: NetworkPolicyImage,
): Promise<string[]> {
  const images = roleImages(manifest, role);
  await Promise.all([
    importImageArchives(provider, machine, CTR, dir, images),
    importImageArchives(provider, machine, CTR, policy.dir, [{ file: policy.file, ref: policy.ref }]),
  ]);
  return [...images.map(({ ref }) => ref), policy.ref];
}

/** The cluster CA as the first server holds it, checked to be a certificate: the trust a joining machine starts from. */
async function clusterCa(provider: Provider, server: string): Promise<string> {
  const pem = (await run(provider, server, ['cat', CLUSTER_CA], { what: 'reading the cluster CA' })).stdout;
  new X509Certificate(pem);
  return pem;
}

/** Writes a file of secrets (mode 0600), runs the command that reads it, and removes it whatever happens. */
async function withSecretFile<T>(provider: Provider, machine: string, path: string, content: string, work: () => Promise<T>): Promise<T> {
  await provider.writeFiles(machine, [{ path, content, mode: 0o600 }]);
  try {
    return await work();
  } finally {
    // Best effort on the way out: the work's own error, if any, is the one to report.
    await tryRun(provider, machine, ['rm', '-f', path]).catch(() => undefined);
  }
}

/** kube-proxy in the mode the spec names; with `none` there is none (the user installs a replacement). */
async function startKubeProxy(context: DistributionContext, machine: MachineRef): Promise<void> {
  const mode = context.spec.networking.kubeProxyMode;
  if (mode === 'none') return;
  await context.provider.writeFiles(machine.name, [{ path: `${CONFIG_DIR}/kube-proxy.yaml`, content: kubeProxyConfig(machine, facts(context), mode) }]);
  await run(context.provider, machine.name, ['systemctl', 'enable', '--now', 'kube-proxy.service'], { what: 'starting kube-proxy' });
}

async function initFirstServer(context: DistributionContext, first: MachineRef, certificateKey: string | undefined): Promise<void> {
  const path = `${CONFIG_DIR}/kubeadm-init.yaml`;
  await writePatches(context.provider, first);
  await withSecretFile(context.provider, first.name, path, initConfig(first, facts(context), certificateKey), () =>
    run(context.provider, first.name, ['kubeadm', 'init', '--config', path, '--skip-token-print', ...(certificateKey ? ['--upload-certs'] : [])], {
      what: 'kubeadm init',
      secrets: certificateKey ? [certificateKey] : [],
    }),
  );
}

/**
 * kube-proxy's role and the pod network's policy controller, in one apply (each kubectl start costs the server's
 * CPU). Without kiab's pod network there is no policy controller: the user's CNI brings its own, or none.
 */
async function applyNetworkObjects(context: DistributionContext, control: MachineRef): Promise<void> {
  const ownNetwork = context.spec.networking.cni === 'kiab';
  if (!ownNetwork) {
    await run(context.provider, control.name, [...KUBECTL, 'apply', '-f', '-'], { what: 'granting kube-proxy its role', stdin: NODE_PROXIER_BINDING });
    return;
  }
  // Machines share the host's kernel: what the pod network found on this one holds for every machine.
  const queue = (await tryRun(context.provider, control.name, ['cat', POLICY_QUEUE_PATH])).stdout.trim();
  const options = { adminNetworkPolicy: queue === 'nftables' };
  await run(context.provider, control.name, [...KUBECTL, 'apply', '-f', '-'], {
    what: 'granting kube-proxy its role and starting the network policy controller',
    stdin: `${NODE_PROXIER_BINDING}---\n${networkPolicyManifest({ host: context.box.ip, port: API_PORT }, await networkPolicyDefinitions(options), options)}`,
  });
}

/** Writes each machine's pod range on its Node (see podCidrNodes); the Nodes must exist, so after the joins. */
async function recordPodCidrs(context: DistributionContext, control: MachineRef, machines: readonly MachineRef[]): Promise<void> {
  await run(context.provider, control.name, [...KUBECTL, 'apply', '--server-side', '--field-manager=kiab', '-f', '-'], {
    what: "writing each node's pod range",
    stdin: podCidrNodes(context.spec.networking, machines),
  });
}

/**
 * Files of secrets a killed run could not remove (withSecretFile's cleanup never ran), removed before this
 * run writes any: once the joins start, the first server holds one that is in use.
 */
async function removeLeftSecrets(context: DistributionContext, machine: MachineRef): Promise<void> {
  await run(context.provider, machine.name, [
    'sh',
    '-c',
    `rm -f ${CONFIG_DIR}/kubeadm-init.yaml ${CONFIG_DIR}/kubeadm-join.yaml ${CONFIG_DIR}/kubeadm-upload.yaml`,
  ]);
}

/**
 * The server the cluster is run from: the first that holds admin.conf. After the first server was removed
 * another holds that role, and a server made again under the first name joins instead of initialising a
 * second control plane.
 */
async function controlServer(context: Pick<DistributionContext, 'provider' | 'machines'>): Promise<MachineRef | undefined> {
  return (await onFirstServer(context, ['test', '-e', ADMIN_KUBECONFIG]))?.server;
}

/** The first server (in order) on which `command` succeeds, with what it printed; one call per server until then. */
async function onFirstServer(
  context: Pick<DistributionContext, 'provider' | 'machines'>,
  command: string[],
): Promise<{ server: MachineRef; stdout: string } | undefined> {
  for (const server of context.machines.filter((machine) => machine.role === 'server')) {
    const result = await tryRun(context.provider, server.name, command);
    if (result.exitCode === 0) return { server, stdout: result.stdout };
  }
  return undefined;
}

async function requireControlServer(context: DistributionContext): Promise<MachineRef> {
  const server = await controlServer(context);
  if (!server) throw new KiabError(`cluster ${context.spec.name} has no initialised server`, { hint: `run \`kiab up ${context.spec.name}\` to finish it` });
  return server;
}

async function joinMachine(context: DistributionContext, machine: MachineRef, first: MachineRef): Promise<void> {
  const { provider } = context;
  // A fresh short-lived token per join: nothing long-lived to leak, and node add works months later.
  const token = (
    await run(provider, first.name, ['kubeadm', 'token', 'create', '--ttl', '15m', '--kubeconfig', ADMIN_KUBECONFIG], { what: 'creating a join token' })
  ).stdout.trim();
  let certificateKey: string | undefined;
  if (machine.role === 'server') {
    certificateKey = randomBytes(32).toString('hex');
    const uploadPath = `${CONFIG_DIR}/kubeadm-upload.yaml`;
    // Its configuration names the patches directory, which a server made by an older kiab lacks.
    await writePatches(provider, first);
    await withSecretFile(provider, first.name, uploadPath, initConfig(first, facts(context), certificateKey), () =>
      run(provider, first.name, ['kubeadm', 'init', 'phase', 'upload-certs', '--upload-certs', '--config', uploadPath], {
        what: 'uploading control-plane certificates',
        secrets: [certificateKey!],
      }),
    );
  }
  await placeNodeRelease(context, machine);
  const joinPath = `${CONFIG_DIR}/kubeadm-join.yaml`;
  if (machine.role === 'server') await writePatches(provider, machine);
  await provider.writeFiles(machine.name, [
    { path: DISCOVERY_KUBECONFIG, content: discoveryKubeconfig(facts(context), await clusterCa(provider, first.name)) },
  ]);
  const config = joinConfig(machine, facts(context), token, certificateKey);
  await withSecretFile(provider, machine.name, joinPath, config, () =>
    run(provider, machine.name, ['kubeadm', 'join', '--config', joinPath], { what: 'kubeadm join', secrets: [token, certificateKey ?? ''] }).catch(
      async (error: unknown) => {
        throw (await hostLimitError(provider, machine, error)) ?? error;
      },
    ),
  );
}

async function kubeletJournal(provider: Provider, machine: MachineRef): Promise<string> {
  return (await tryRun(provider, machine.name, ['journalctl', '-u', 'kubelet', '-n', '40', '--no-pager', '-o', 'cat'])).stdout.trim();
}

/** A join that failed because the kubelet died for a host limit says so, instead of a generic join failure. */
async function hostLimitError(provider: Provider, machine: MachineRef, error: unknown): Promise<KiabError | undefined> {
  const hint = inotifyHint(await kubeletJournal(provider, machine).catch(() => ''));
  return hint
    ? new KiabError(`${machine.name}: kubeadm join failed because its kubelet could not start: ${hint}`, {
        hint: 'then run the same kiab command again',
        cause: error,
      })
    : undefined;
}

async function isJoined(provider: Provider, machine: MachineRef): Promise<boolean> {
  return fileExists(provider, machine.name, '/etc/kubernetes/kubelet.conf');
}

async function writeRoutes(context: DistributionContext): Promise<void> {
  // A CNI the user installs routes between machines itself.
  if (context.spec.networking.cni !== 'kiab') return;
  await Promise.all(
    context.machines.map(async (machine) => {
      await context.provider.writeFiles(machine.name, [{ path: POD_ROUTES_PATH, content: podRoutes(context.spec.networking, machine, context.machines) }]);
      await run(context.provider, machine.name, ['systemctl', 'restart', 'kiab-pod-network.service'], { what: 'applying pod routes' });
    }),
  );
}

/**
 * The verified set `up` needs, downloading the official release when the cache lacks it. Without a network
 * that fails at once, and the refusal names the ways that need none: a build from source where Go is
 * installed, or a set exported on another machine.
 */
async function cachedOrPulled({ provider, reporter, signal }: PreflightRequest, version: string): Promise<void> {
  if (await verifiedAssets({ distribution: 'kubeadm', version, arch: hostArch() })) return;
  try {
    await pullKubeadmAssets({ provider, reporter, version, arches: [hostArch()], force: false, conformance: false, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (isAbort(error) || error instanceof UsageError) throw error;
    const build = goOnPath() ? `build them from source with \`kiab assets build --k8s kubeadm --k8s-version ${version}\` (Go is installed), or ` : '';
    throw new KiabError(`no kubeadm assets for Kubernetes ${version} in the cache, and downloading the release failed: ${(error as Error).message}`, {
      hint: `${build}copy in a set exported on another machine (\`kiab assets export\`) with \`kiab assets import FILE\`; \`--k8s none\` gives bare machines`,
      cause: error,
    });
  }
}

/**
 * Joins control-plane members one at a time (etcd grows by one member at a time), each one's kube-proxy
 * starting beside the next join. A failure is thrown once that start and the later joins have settled.
 */
async function joinServers(context: DistributionContext, control: MachineRef, servers: MachineRef[]): Promise<void> {
  const [server, ...rest] = servers;
  if (!server) return;
  throwIfAborted(context.signal);
  context.progress(`joining ${server.name}`);
  await joinMachine(context, server, control);
  await settleAll([startKubeProxy(context, server), joinServers(context, control, rest)]);
}

/** Joins the machines not in yet: the servers one by one, then the workers together once their images are in. */
async function joinPending(context: DistributionContext, control: MachineRef, pending: MachineRef[], workerImages: Promise<unknown>): Promise<void> {
  await joinServers(
    context,
    control,
    pending.filter((machine) => machine.role === 'server'),
  );
  throwIfAborted(context.signal);
  const workers = pending.filter((machine) => machine.role === 'worker');
  if (workers.length) context.progress(`joining ${workers.length} workers`);
  await workerImages;
  await Promise.all(
    workers.map(async (worker) => {
      await joinMachine(context, worker, control);
      await startKubeProxy(context, worker);
    }),
  );
  context.progress('starting kube-proxy, approving kubelet serving certificates');
}

/**
 * Everything of install after the servers' images: a kubeadm a killed run left is awaited, pod routes are
 * written, the control plane is initialised (once) and announced, and every machine not in yet joins.
 */
async function setUpCluster(context: DistributionContext, servers: MachineRef[], workerImages: Promise<unknown>): Promise<void> {
  const { provider, machines } = context;
  await Promise.all(
    machines.map(async (machine) => {
      await settleKubeadm(context, machine);
      await removeLeftSecrets(context, machine);
    }),
  );
  context.progress('writing pod routes');
  await writeRoutes(context);
  // Ctrl-C is taken between phases, never inside a kubeadm run: a half-run kubeadm is what convergence cannot repair.
  throwIfAborted(context.signal);
  let control = await controlServer(context);
  if (!control) {
    control = firstServer(context);
    context.progress(`kubeadm init on ${control.name}`);
    await initFirstServer(context, control, servers.length > 1 ? randomBytes(32).toString('hex') : undefined);
  }
  await context.controlPlaneUp();
  await applyNetworkObjects(context, control);
  const pending: MachineRef[] = [];
  for (const machine of machines) if (machine.name !== control.name && !(await isJoined(provider, machine))) pending.push(machine);
  const joined = machines.filter((machine) => !pending.includes(machine));
  // Serving certificates are approved beside the joins as the kubelets ask, and every machine already in gets
  // its kube-proxy now (redone on every run: a run killed after kubeadm would otherwise leave a node without
  // it for good); each machine that joins gets its own as soon as it is in. Side by side, the first failure
  // stops the others (a failed join stops the approvals, which would otherwise poll on until the deadline)
  // and is the one thrown.
  await forEachBounded<(signal: AbortSignal) => Promise<void>>(
    [
      (signal) => approveServingCertificates(context, control, machines, signal),
      (signal) => joinPending({ ...context, signal }, control, pending, workerImages),
      ...joined.map((machine) => () => startKubeProxy(context, machine)),
    ],
    joined.length + 2,
    (task, signal) => task(signal),
    context.signal,
  );
  await recordPodCidrs(context, control, machines);
}

/**
 * Upstream Kubernetes set up by kubeadm, with binaries and images from kiab's verified asset cache (built
 * from the Go modules or downloaded) so that no pull leaves the cluster.
 */
export const kubeadmDistribution: Distribution = {
  name: 'kubeadm',
  defaultVersion: DEFAULT_KUBEADM_VERSION,
  resolveVersion: (asked) => resolveRelease(asked).version,
  resolveNodeVersion: (asked, field) => resolveRelease(asked, field).version,
  kubernetes: true,
  cleanAsCreated: false,
  // Upstream Kubernetes brings no addons: kiab installs them (src/addons/).
  bundledAddons: {},
  systemPods: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'coredns', NETWORK_POLICY_CONTROLLER],
  // The control plane's static pods run on their machine's own network.
  hostNetworkPods: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'],
  // kubeadm lets anonymous requests read /readyz; kube-proxy serves its health on every machine.
  health: { apiPath: API_READY_PATH, nodeProxy: { port: 10256, path: '/healthz' } },
  apiCertificateAuthority: async (provider, machines) => {
    const control = await controlServer({ provider, machines });
    return control ? (await run(provider, control.name, ['cat', CLUSTER_CA], { what: 'reading the cluster CA' })).stdout : undefined;
  },
  preflight: async (request) => {
    checkKubeadmPatches(request.spec, kubeadmVersion(request.spec));
    await cachedOrPulled(request, kubeadmVersion(request.spec));
    for (const version of otherNodeReleases(request.spec)) await cachedOrPulled(request, version);
    await networkPolicyImage();
  },
  nodeImage: async (spec, baseNodeImage) => {
    const { dir, manifest } = await kubeadmAssets(spec);
    const policy = await networkPolicyImage();
    return {
      ...kubeadmNodeImage(kubeadmVersion(spec), baseNodeImage, dir, manifest),
      // A server's import took 3 to 4.5 s of every `up` on this host, before kubeadm init could start.
      preload: {
        digest: (role) => createHash('sha256').update(roleImagesDigest(manifest, role)).update(`${policy.ref} ${policy.sha256}`).digest('hex'),
        load: (provider, machine, role) => loadRoleImages(provider, machine, role, dir, manifest, policy),
      },
    };
  },
  // Measured on a running 1+2 cluster (see README, host limits): the control plane's watchers make a server the heaviest.
  inotifyNeed: (role) => (role === 'server' ? { instances: 28, watches: 400 } : { instances: 15, watches: 200 }),
  // local-path-provisioner keeps volumes' data here: on a volume of its own, so snapshots capture it. etcd's
  // data on a server has one too: its write-ahead log preallocates 128 MB that a commit of the machine's
  // filesystem would write out in full (a second of every capture), where a copy of the volume keeps it sparse.
  machineVolumes: (role) => [{ purpose: 'local-path', path: LOCAL_PATH_DIR }, ...(role === 'server' ? [{ purpose: 'etcd', path: ETCD_DATA_DIR }] : [])],
  machineFiles: (context, machine) => [
    // Without kiab's pod network the CNI configuration directory stays empty until the user's CNI writes there.
    ...(context.spec.networking.cni === 'kiab'
      ? [
          { path: CNI_CONFIG_PATH, content: cniConfig(context.spec.networking, machine) },
          { path: POD_ROUTES_PATH, content: podRoutes(context.spec.networking, machine, context.machines) },
        ]
      : []),
    { path: POD_NETWORK_ENV_PATH, content: podNetworkEnvironment(context.spec.networking) },
    { path: '/etc/kiab/node.env', content: `NODE_IP=${machine.ip}\n` },
    { path: '/etc/default/kubelet', content: kubeletEnvironment() },
    { path: POD_RESOLV_CONF, content: `nameserver ${machine.ip}\n` },
  ],
  install: async (context) => {
    const servers = context.machines.filter((machine) => machine.role === 'server');
    const workers = context.machines.filter((machine) => machine.role === 'worker');
    // Only the servers' images stand before kubeadm init, so they go in alone (a small host's CPU is theirs);
    // the workers' (pause and CoreDNS) go in beside the rest, and the workers join once they are in.
    context.progress(`importing images into ${servers.length === 1 ? 'the server' : `${servers.length} servers`}`);
    await Promise.all(servers.map((machine) => importImages(context, machine)));
    // forEachBounded starts no lane once interrupted: checked first, so the imports always have the lane that awaits them.
    throwIfAborted(context.signal);
    const workerImages = settleAll(workers.map((machine) => importImages(context, machine)));
    // Side by side: a failed import stops the set-up between two of its phases, a failed set-up is thrown once
    // the imports have settled; the first failure is the one thrown (see forEachBounded).
    await forEachBounded<(signal: AbortSignal) => Promise<void>>(
      [
        async () => {
          await workerImages;
        },
        (signal) => setUpCluster({ ...context, signal }, servers, workerImages),
      ],
      2,
      (lane, signal) => lane(signal),
      context.signal,
    );
  },
  join: async (context, machine) => {
    await importImages(context, machine);
    await writeRoutes(context);
    await settleKubeadm(context, machine);
    const control = await requireControlServer(context);
    if (!(await isJoined(context.provider, machine))) await joinMachine(context, machine, control);
    await recordPodCidrs(context, control, [machine]);
    await startKubeProxy(context, machine);
    await approveServingCertificates(context, control, [machine]);
  },
  leave: async (context, machine) => {
    // Acting from a server that stays lets the first server leave too: every server holds admin.conf.
    const via = remainingServer(context, machine);
    // That server's own API, not the box: the box may still forward to the leaving server, whose API goes with the reset.
    const kubectl = [...KUBECTL, '--server', `https://${via.ip}:${API_PORT}`];
    await drainNode(context, kubectl, via, machine);
    // On a server, reset also removes its etcd member so the remaining quorum stays right. A machine that is
    // down cannot reset itself: that is said, and the Node object goes all the same.
    const reset = await tryRun(context.provider, machine.name, ['kubeadm', 'reset', '--force']);
    if (reset.exitCode !== 0) context.warn(`kubeadm reset on ${machine.name} failed (exit ${reset.exitCode}); removing it anyway`);
    await deleteNode(context, kubectl, via, machine);
  },
  membershipChanged: async (context) => {
    await writeRoutes(context);
  },
  adminKubeconfig: async (context) => {
    // Absent until kubeadm init has run: an answer, not a failure. Read from the first server that holds it
    // (looking for the file first would take a call more).
    return (await onFirstServer(context, ['cat', ADMIN_KUBECONFIG]))?.stdout;
  },
  restartNodeAgent: async (context, machine) => {
    await run(context.provider, machine.name, ['systemctl', 'restart', 'kubelet.service'], { what: 'restarting the kubelet' });
  },
  diagnose: (context, machine) => kubeletJournal(context.provider, machine),
  ctr: () => CTR,
  upgrade: kubeadmUpgrade,
  buildAssets: async (request) => {
    const kubeadm = await buildKubeadmAssets(request);
    return request.conformance ? [kubeadm, await buildConformanceAssets(request, kubeadm)] : [kubeadm];
  },
  pullAssets: async (request) => {
    const kubeadm = await pullKubeadmAssets(request);
    return request.conformance ? [kubeadm, await pullConformanceAssets(request, kubeadm)] : [kubeadm];
  },
  importAssets: async () => {
    throw new UsageError(
      'FILE: kubeadm assets are imported as one archive made by `kiab assets export --k8s kubeadm FILE` on a machine that has them',
      `or build them with \`kiab assets build --k8s kubeadm --k8s-version ${DEFAULT_KUBEADM_VERSION}\`, or pull them with \`kiab assets pull --k8s kubeadm\``,
    );
  },
};
