import type { MachineRef } from '../../distribution/index.js';
import { boxAddress } from '../../net/addresses.js';
import { listenAddressOf } from '../../net/ports.js';
import { runStep, type Reporter } from '../../reporter.js';
import type { AddonManifest } from '../../addons/index.js';
import { awaitAddons, awaitInstalledAddons, installAddons, registerAddonApis, wantedAddons } from './addons.js';
import { distributionContext, type ClusterContext } from '../context.js';
import { awaitingCni, waitForKubernetes } from './api-ready.js';
import { publishLocalRegistry } from './local-registry.js';
import { apiServerUrl, readUserKubeconfig, writeUserKubeconfig, type ApiAddress, type KubeconfigOptions } from './user-kubeconfig.js';
import { clusterRegistry } from '../lifecycle/topology.js';
import { lanOf } from '../lifecycle/lan.js';

/** The cluster's kubeconfig as the user gets it: the API at the published loopback port (kiab's own use) or at the box. */
export async function clusterKubeconfig(context: ClusterContext, machines: MachineRef[], address: ApiAddress = 'localhost'): Promise<string> {
  return readUserKubeconfig(
    context.distribution,
    distributionContext(context, machines),
    context.names,
    apiServerUrl(context.ports, boxAddress(context.subnet), address, listenAddressOf(context.spec.ports), lanOf(context.spec)?.address),
  );
}

/**
 * For Kubernetes distributions: every machine a Ready node and the system pods running, by the context's
 * deadline (as reported since `since`, if given; seen `healthyLooks` times in a row, see waitForKubernetes).
 */
export async function waitUntilReady(
  context: ClusterContext,
  machines: MachineRef[],
  progress: (detail: string) => void,
  options: { since?: Date; healthyLooks?: number } = {},
): Promise<string | undefined> {
  if (!context.distribution.kubernetes) return undefined;
  const kubeconfig = await clusterKubeconfig(context, machines);
  await waitForKubernetes({
    kubeconfig,
    machines,
    distribution: context.distribution,
    context: distributionContext(context, machines),
    progress,
    ...options,
  });
  return kubeconfig;
}

/**
 * Installs the wanted addons kiab provides and waits until every wanted addon works (a step only when there are
 * any). An install already begun (see beginAddons) is awaited instead of made again. Without a pod network their
 * pods cannot start: they are applied, not waited for, and `up` says so.
 */
export async function addonsStep(
  context: ClusterContext,
  machines: MachineRef[],
  reporter: Reporter,
  kubeconfig: string,
  installing?: Promise<AddonManifest[]>,
): Promise<void> {
  const wanted = wantedAddons(context.spec, context.distribution);
  if (wanted.length === 0) return;
  const wait = context.spec.networking.cni !== 'none';
  await runStep(reporter, `addons (${wanted.join(', ')})`, async (progress) => {
    const update = (detail: string): void => progress.update(detail);
    const manifests = await (installing ?? installAddons(context, machines, kubeconfig, update));
    await registerAddonApis(kubeconfig, manifests);
    if (wait) await awaitInstalledAddons(context, kubeconfig, manifests, update);
  });
  if (!wait) reporter.info(`addons ${wanted.join(', ')} applied, not waited for: their pods start once a CNI runs`);
}

/**
 * The addons' install begun as soon as the first server's API answers, while the other machines join: their
 * pods then start beside the joins rather than after them (metrics-server alone is ready only at its second
 * scrape, 10 s after its first). The APIs they serve are registered by addonsStep, after the joins: until
 * metrics-server answers, the install's own kubectl calls could otherwise wait on it. Undefined where there is
 * nothing to install. The promise is marked handled so that a failure waits for addonsStep (or the caller's
 * cleanup) to be reported, and `signal` stops it.
 */
export function beginAddons(context: ClusterContext, machines: MachineRef[], signal: AbortSignal): Promise<AddonManifest[]> | undefined {
  if (!context.distribution.kubernetes || wantedAddons(context.spec, context.distribution).length === 0) return undefined;
  const ahead = { ...context, signal };
  const installing = clusterKubeconfig(ahead, machines).then((kubeconfig) => installAddons(ahead, machines, kubeconfig, () => undefined));
  installing.catch(() => undefined);
  return installing;
}

/** How a cluster is brought to ready: as `up` made it, or as a restore brought it back. */
export interface ReadyOptions {
  /** Only what reports after this counts (a restored etcd remembers every node and pod as it was). */
  since?: Date;
  /** Healthy looks in a row that confirm readiness (see waitForKubernetes). */
  healthyLooks?: number;
  /** `install`: apply the addons and wait for them (up); `await`: they are in the cluster already, wait for them (a restore). */
  addons: 'install' | 'await';
  /** For `install`: the install begun while the machines joined (see beginAddons), to await instead of begin. */
  installing?: Promise<AddonManifest[]>;
}

/**
 * The last steps that bring a Kubernetes cluster to ready, shared by `up` and a restore: wait until it is
 * ready, install or await the addons, tell tools where the registry is (KEP-1755), and merge the kubeconfig
 * where the user asked. Nothing for bare machines.
 */
export async function finishKubernetes(
  context: ClusterContext,
  machines: MachineRef[],
  reporter: Reporter,
  options: KubeconfigOptions | undefined,
  ready: ReadyOptions = { addons: 'install' },
): Promise<void> {
  const { addons, installing, ...wait } = ready;
  const kubeconfig = await runStep(reporter, 'wait for Kubernetes', (progress) => waitUntilReady(context, machines, (detail) => progress.update(detail), wait));
  if (!kubeconfig) return;
  if (context.spec.networking.cni === 'none') reporter.info(await awaitingCni(kubeconfig));
  if (addons === 'install') await addonsStep(context, machines, reporter, kubeconfig, installing);
  else if (wantedAddons(context.spec, context.distribution).length > 0)
    await runStep(reporter, 'wait for addons', (progress) => awaitAddons(context, kubeconfig, (detail) => progress.update(detail)));
  const registry = clusterRegistry(context.spec, context.names, context.ports);
  if (registry) await publishLocalRegistry(kubeconfig, registry);
  if (!options) return;
  const written = await writeUserKubeconfig(
    options.apiAddress === 'localhost' ? kubeconfig : await clusterKubeconfig(context, machines, options.apiAddress),
    options,
  );
  reporter.info(`kubeconfig: context ${context.names.kubeContext} in ${written}`);
}
