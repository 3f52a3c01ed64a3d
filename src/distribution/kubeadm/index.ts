import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { KiabError } from '../../errors.js';
import type { ExecResult, Provider } from '../../provider/types.js';
import type { ClusterSpec } from '../../spec/schema.js';
import type { Distribution, DistributionContext, MachineRef } from '../types.js';
import { EVERY_MACHINE_IMAGES, kubeadmAssets, kubeadmNodeImage, kubeadmVersion } from './assets.js';
import { API_PORT, POD_RESOLV_CONF, initConfig, joinConfig, kubeProxyConfig, NODE_PROXIER_BINDING, type ClusterFacts } from './config.js';
import { CNI_CONFIG_PATH, cniConfig, POD_ROUTES_PATH, podRoutes } from './network.js';

const CTR = ['ctr', '--namespace', 'k8s.io'];
const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';
const KUBECTL = ['kubectl', '--kubeconfig', ADMIN_KUBECONFIG];
const CONFIG_DIR = '/etc/kiab';

/** Replaces every secret in a text before it can reach an error message or a log. */
function redact(text: string, secrets: string[]): string {
  return secrets.filter(Boolean).reduce((result, secret) => result.split(secret).join('***'), text);
}

async function run(provider: Provider, machine: string, command: string[], what: string, secrets: string[] = [], stdin?: string): Promise<ExecResult> {
  const result = await provider.exec(machine, command, stdin === undefined ? {} : { stdin });
  if (result.exitCode !== 0) {
    const output = redact(`${result.stderr}\n${result.stdout}`, secrets).trim().split('\n').slice(-6).join(' | ');
    throw new KiabError(`${machine}: ${what} failed (exit ${result.exitCode}): ${output}`);
  }
  return result;
}

async function fileExists(provider: Provider, machine: string, path: string): Promise<boolean> {
  return (await provider.exec(machine, ['test', '-e', path])).exitCode === 0;
}

function facts(context: DistributionContext): ClusterFacts {
  return {
    clusterName: `kiab-${context.spec.name}`,
    kubernetesVersion: kubeadmVersion(context.spec),
    boxHostname: context.box.hostname,
    boxIp: context.box.ip,
    controlPlaneEndpoint: `${context.box.hostname}:${API_PORT}`,
    untaintServers: !context.machines.some((machine) => machine.role === 'worker'),
  };
}

function firstServer(context: DistributionContext): MachineRef {
  const server = context.machines.find((machine) => machine.role === 'server');
  if (!server) throw new KiabError(`cluster ${context.spec.name} has no server`);
  return server;
}

/** Imports the images a machine's role needs, skipping those its containerd already has. */
async function importImages(context: DistributionContext, machine: MachineRef): Promise<void> {
  const { dir, manifest } = await kubeadmAssets(context.spec);
  const present = (await context.provider.exec(machine.name, [...CTR, 'images', 'ls', '-q'])).stdout.split('\n');
  for (const [file, ref] of Object.entries(manifest.images)) {
    const needed = machine.role === 'server' || EVERY_MACHINE_IMAGES.some((name) => file === `images/${name}.tar`);
    if (!needed || present.includes(ref)) continue;
    const result = await context.provider.exec(machine.name, [...CTR, 'images', 'import', '-'], { stdin: createReadStream(join(dir, file), { highWaterMark: 4 << 20 }) });
    if (result.exitCode !== 0) throw new KiabError(`${machine.name}: importing ${ref} failed: ${result.stderr.trim()}`);
  }
}

/** sha256 of the cluster CA's public key, the pin kubeadm join checks the API server against. */
async function caCertHash(provider: Provider, server: string): Promise<string> {
  const pem = (await run(provider, server, ['cat', '/etc/kubernetes/pki/ca.crt'], 'reading the cluster CA')).stdout;
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** Writes a file of secrets (mode 0600), runs the command that reads it, and removes it whatever happens. */
async function withSecretFile<T>(provider: Provider, machine: string, path: string, content: string, work: () => Promise<T>): Promise<T> {
  await provider.writeFiles(machine, [{ path, content, mode: 0o600 }]);
  try {
    return await work();
  } finally {
    await provider.exec(machine, ['rm', '-f', path]).catch(() => undefined);
  }
}

async function startKubeProxy(context: DistributionContext, machine: MachineRef): Promise<void> {
  await context.provider.writeFiles(machine.name, [{ path: `${CONFIG_DIR}/kube-proxy.yaml`, content: kubeProxyConfig(machine) }]);
  await run(context.provider, machine.name, ['systemctl', 'enable', '--now', 'kube-proxy.service'], 'starting kube-proxy');
}

async function initFirstServer(context: DistributionContext, first: MachineRef, certificateKey: string | undefined): Promise<void> {
  const path = `${CONFIG_DIR}/kubeadm-init.yaml`;
  await withSecretFile(context.provider, first.name, path, initConfig(first, facts(context), certificateKey), () =>
    run(context.provider, first.name, ['kubeadm', 'init', '--config', path, '--skip-token-print', ...(certificateKey ? ['--upload-certs'] : [])], 'kubeadm init', certificateKey ? [certificateKey] : []),
  );
  await run(context.provider, first.name, [...KUBECTL, 'apply', '-f', '-'], 'granting kube-proxy its role', [], NODE_PROXIER_BINDING);
  await startKubeProxy(context, first);
}

async function joinMachine(context: DistributionContext, machine: MachineRef): Promise<void> {
  const { provider } = context;
  const first = firstServer(context);
  // A fresh short-lived token per join: nothing long-lived to leak, and node add works months later.
  const token = (await run(provider, first.name, ['kubeadm', 'token', 'create', '--ttl', '15m', '--kubeconfig', ADMIN_KUBECONFIG], 'creating a join token')).stdout.trim();
  let certificateKey: string | undefined;
  if (machine.role === 'server') {
    certificateKey = randomBytes(32).toString('hex');
    const uploadPath = `${CONFIG_DIR}/kubeadm-upload.yaml`;
    await withSecretFile(provider, first.name, uploadPath, initConfig(first, facts(context), certificateKey), () =>
      run(provider, first.name, ['kubeadm', 'init', 'phase', 'upload-certs', '--upload-certs', '--config', uploadPath], 'uploading control-plane certificates', [certificateKey!]),
    );
  }
  const joinPath = `${CONFIG_DIR}/kubeadm-join.yaml`;
  const config = joinConfig(machine, facts(context), { token, caCertHash: await caCertHash(provider, first.name) }, certificateKey);
  await withSecretFile(provider, machine.name, joinPath, config, () => run(provider, machine.name, ['kubeadm', 'join', '--config', joinPath], 'kubeadm join', [token, certificateKey ?? '']));
  await startKubeProxy(context, machine);
}

async function isJoined(provider: Provider, machine: MachineRef): Promise<boolean> {
  return fileExists(provider, machine.name, '/etc/kubernetes/kubelet.conf');
}

async function writeRoutes(context: DistributionContext): Promise<void> {
  await Promise.all(
    context.machines.map(async (machine) => {
      await context.provider.writeFiles(machine.name, [{ path: POD_ROUTES_PATH, content: podRoutes(machine, context.machines) }]);
      await run(context.provider, machine.name, ['systemctl', 'restart', 'kiab-pod-network.service'], 'applying pod routes');
    }),
  );
}

/**
 * Upstream Kubernetes set up by kubeadm, with binaries and images from kiab's verified asset cache (built
 * from the Go modules or downloaded) so that no pull leaves the cluster.
 */
export const kubeadmDistribution: Distribution = {
  name: 'kubeadm',
  kubernetes: true,
  systemPods: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'coredns'],
  preflight: async (spec: ClusterSpec) => {
    await kubeadmAssets(spec);
  },
  nodeImage: async (spec, baseNodeImage) => {
    const { dir, manifest } = await kubeadmAssets(spec);
    return kubeadmNodeImage(kubeadmVersion(spec), baseNodeImage, dir, manifest);
  },
  machineVolumes: () => [],
  machineFiles: (context, machine) => [
    { path: CNI_CONFIG_PATH, content: cniConfig(machine) },
    { path: '/etc/kiab/node.env', content: `NODE_IP=${machine.ip}\n` },
    { path: POD_RESOLV_CONF, content: `nameserver ${machine.ip}\n` },
    { path: POD_ROUTES_PATH, content: podRoutes(machine, context.machines) },
  ],
  install: async (context) => {
    const { provider, machines } = context;
    const first = firstServer(context);
    context.progress('importing control-plane images');
    await Promise.all(machines.map((machine) => importImages(context, machine)));
    await writeRoutes(context);
    const servers = machines.filter((machine) => machine.role === 'server');
    if (!(await fileExists(provider, first.name, ADMIN_KUBECONFIG))) {
      context.progress(`kubeadm init on ${first.name}`);
      await initFirstServer(context, first, servers.length > 1 ? randomBytes(32).toString('hex') : undefined);
    }
    const pending = [];
    for (const machine of machines) if (machine.name !== first.name && !(await isJoined(provider, machine))) pending.push(machine);
    // Control-plane members join one at a time (etcd grows by one member at a time); workers together.
    for (const server of pending.filter((machine) => machine.role === 'server')) {
      context.progress(`joining ${server.name}`);
      await joinMachine(context, server);
    }
    const workers = pending.filter((machine) => machine.role === 'worker');
    if (workers.length) context.progress(`joining ${workers.length} workers`);
    await Promise.all(workers.map((worker) => joinMachine(context, worker)));
  },
  join: async (context, machine) => {
    await importImages(context, machine);
    await writeRoutes(context);
    if (!(await isJoined(context.provider, machine))) await joinMachine(context, machine);
  },
  leave: async (context, machine) => {
    const first = firstServer(context);
    if (first.name === machine.name) return;
    const { provider } = context;
    await provider.exec(first.name, [...KUBECTL, 'drain', machine.name, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=90s']);
    // On a server, reset also removes its etcd member so the remaining quorum stays right.
    await provider.exec(machine.name, ['kubeadm', 'reset', '--force']).catch(() => undefined);
    await provider.exec(first.name, [...KUBECTL, 'delete', 'node', machine.name, '--ignore-not-found']);
  },
  membershipChanged: async (context) => {
    await writeRoutes(context);
  },
  adminKubeconfig: async (context) => {
    const first = firstServer(context);
    const result = await context.provider.exec(first.name, ['cat', ADMIN_KUBECONFIG]);
    return result.exitCode === 0 ? result.stdout : undefined;
  },
  diagnose: async (context, machine) => {
    const result = await context.provider.exec(machine.name, ['journalctl', '-u', 'kubelet', '-n', '12', '--no-pager', '-o', 'cat']);
    return result.stdout.trim();
  },
  ctr: () => CTR,
};
