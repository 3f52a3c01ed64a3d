import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addonManifests,
  COMPONENTS,
  imagesFor,
  definitionsIn,
  METRICS_SERVICE_DNS,
  METRICS_TLS_SECRET,
  requestedAddons,
  type AddonManifest,
  type AddonName,
  type AddonProbe,
  type AddonSettings,
} from '../../addons/index.js';
import { addonAssets, GATEWAY_API_FILES, imageFile, METALLB_MANIFEST_FILE } from '../../addons/assets.js';
import { imageArchiveLines, importImageArchives } from '../../assets/images.js';
import type { Distribution, ImagePreload, MachineRef } from '../../distribution/index.js';
import { KiabError, UsageError } from '../../errors.js';
import type { MachineRole } from '../../labels.js';
import { boxAddress } from '../../net/addresses.js';
import { makeServingCertificate } from '../../pki/index.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { familiesOf } from '../../spec/networking.js';
import { poll } from '../../wait.js';
import { settleAll } from '../../settle.js';
import type { ClusterContext } from '../context.js';
import { applyObjects, kubeClients, probeProblem, unestablished, type KubeClients } from './kube-objects.js';

/**
 * The addons a cluster runs: what the spec asks for (all by default) where there is Kubernetes to run them,
 * none on bare machines. Asking bare machines for addons is refused before anything is made.
 */
export function wantedAddons(spec: ClusterSpec, distribution: Distribution): AddonName[] {
  if (distribution.kubernetes) return requestedAddons(spec);
  if (spec.addons?.length)
    throw new UsageError(
      `--addons: --k8s ${spec.distribution} runs no Kubernetes, so it can run no addons`,
      'leave --addons out, or choose --k8s kubeadm or k3s',
    );
  return [];
}

/** The wanted addons kiab installs itself: those the distribution does not bring. */
function kiabAddons(spec: ClusterSpec, distribution: Distribution): AddonName[] {
  return wantedAddons(spec, distribution).filter((addon) => !distribution.bundledAddons[addon]);
}

/** Refuses, before anything is created, a cluster whose addons cannot be installed (their assets are missing). */
export async function addonPreflight(spec: ClusterSpec, distribution: Distribution): Promise<void> {
  if (kiabAddons(spec, distribution).length > 0) await addonAssets();
}

/** The metrics API's certificate: the one the cluster has, else a new one (a new one would restart metrics-server for nothing). */
async function metricsTls(clients: KubeClients): Promise<AddonSettings['metricsTls']> {
  const secret = await clients.core.readNamespacedSecret(METRICS_TLS_SECRET).catch(() => undefined);
  const field = (key: string): string | undefined => (secret?.data?.[key] ? Buffer.from(secret.data[key], 'base64').toString() : undefined);
  const [caPem, certPem, keyPem] = [field('ca.crt'), field('tls.crt'), field('tls.key')];
  if (caPem && certPem && keyPem) return { caPem, certPem, keyPem };
  return makeServingCertificate(METRICS_SERVICE_DNS, 3650);
}

async function manifestsFor(context: ClusterContext, machines: MachineRef[], wanted: AddonName[], clients: KubeClients, dir: string): Promise<AddonManifest[]> {
  const settings: AddonSettings = {
    subnetPrefix: context.subnet.prefix,
    families: familiesOf(context.spec.networking),
    boxIp: boxAddress(context.subnet),
    hasWorkers: machines.some((machine) => machine.role === 'worker'),
    metricsTls: wanted.includes('metrics') ? await metricsTls(clients) : { caPem: '', certPem: '', keyPem: '' },
    metallbDefinitions: wanted.includes('loadbalancer') ? await definitionsIn(await readFile(join(dir, METALLB_MANIFEST_FILE), 'utf8')) : [],
    gatewayDefinitions: wanted.includes('ingress')
      ? (await Promise.all(GATEWAY_API_FILES.map(async (file) => definitionsIn(await readFile(join(dir, file), 'utf8'))))).flat()
      : [],
  };
  return addonManifests(wanted, settings);
}

/** The image archives of the set that a machine of `role` runs the wanted addons' parts from. */
function addonArchives(wanted: AddonName[], role: MachineRole, hasWorkers: boolean): Array<{ file: string; ref: string }> {
  return imagesFor(wanted, role, hasWorkers).map((component) => ({ file: imageFile(component), ref: COMPONENTS[component].image }));
}

/**
 * Every machine gets the images of the addon parts that can run on it, from the verified cache: none to
 * import where the machine was made from an image preloaded with them (see withAddonImages).
 */
async function importAddonImages(context: ClusterContext, machines: MachineRef[], wanted: AddonName[], dir: string): Promise<void> {
  const hasWorkers = machines.some((machine) => machine.role === 'worker');
  const ctr = context.distribution.ctr();
  await Promise.all(machines.map((machine) => importImageArchives(context.provider, machine.name, ctr, dir, addonArchives(wanted, machine.role, hasWorkers))));
}

/**
 * The distribution's preload with the addon images each role runs added, for a cluster with kiab's addons:
 * its machines then start with them instead of importing them once Kubernetes is up (4.6 s of a default
 * `up` here, 10.8 s of 3 servers and 2 workers). A cluster without them keeps the distribution's own images.
 */
export async function withAddonImages(preload: ImagePreload, spec: ClusterSpec, distribution: Distribution): Promise<ImagePreload> {
  const wanted = kiabAddons(spec, distribution);
  if (wanted.length === 0) return preload;
  const { dir, manifest } = await addonAssets();
  const hasWorkers = spec.workers > 0;
  const archives = (role: MachineRole) => addonArchives(wanted, role, hasWorkers);
  return {
    digest: (role) =>
      createHash('sha256')
        .update(preload.digest(role))
        .update(imageArchiveLines(manifest, archives(role)))
        .digest('hex'),
    load: async (provider, machine, role) => {
      const loaded = await preload.load(provider, machine, role);
      await importImageArchives(provider, machine, distribution.ctr(), dir, archives(role));
      return [...loaded, ...archives(role).map(({ ref }) => ref)];
    },
  };
}

/** Each wanted addon with how to tell it works: kiab's own probe, or the distribution's for what it bundles. */
function probes(
  spec: ClusterSpec,
  distribution: Distribution,
  manifests: AddonManifest[],
): Array<{ name: AddonName; by: 'kiab' | 'distribution'; probe: AddonProbe }> {
  return wantedAddons(spec, distribution).map((name) => {
    const bundled = distribution.bundledAddons[name];
    if (bundled) return { name, by: 'distribution' as const, probe: bundled };
    const own = manifests.find((manifest) => manifest.name === name);
    if (!own) throw new KiabError(`addon ${name} has no manifest`);
    return { name, by: 'kiab' as const, probe: own.probe };
  });
}

/** Waits until every wanted addon works; at the deadline says which does not and why. */
async function waitForAddons(
  context: ClusterContext,
  clients: KubeClients,
  checks: ReturnType<typeof probes>,
  progress: (detail: string) => void,
): Promise<void> {
  let last = '';
  await poll(
    async () => {
      for (const check of checks) {
        const problem = await probeProblem(clients, check.probe).catch((error: Error) => `the API did not answer (${error.message.split('\n')[0]})`);
        if (problem) {
          last = `${check.name}: ${problem}`;
          progress(last);
          return undefined;
        }
      }
      return true;
    },
    {
      interval: 1000,
      deadline: context.deadline,
      ...(context.signal ? { signal: context.signal } : {}),
      timeout: () =>
        new KiabError(`the addons were not ready at the deadline: ${last}`, {
          hint: `see them with \`kubectl get pods -A\` (context ${context.names.kubeContext}), or raise --wait; \`--no-addons\` makes a cluster without them`,
        }),
    },
  );
}

/** Addons that bring resource definitions: the definitions, once they are established the objects. */
async function applyDefined(context: ClusterContext, clients: KubeClients, manifests: AddonManifest[]): Promise<void> {
  const definitions = manifests.flatMap((manifest) => manifest.definitions);
  if (definitions.length === 0) return;
  await applyObjects(clients, definitions);
  await poll(
    async () =>
      (
        await unestablished(
          clients,
          definitions.map((definition) => definition.metadata!.name!),
        )
      ).length === 0
        ? true
        : undefined,
    {
      interval: 500,
      deadline: context.deadline,
      ...(context.signal ? { signal: context.signal } : {}),
      timeout: () => new KiabError('the addons’ resource definitions were not established at the deadline'),
    },
  );
  await applyObjects(
    clients,
    manifests.flatMap((manifest) => manifest.objects),
  );
}

/**
 * Installs the wanted addons the distribution does not bring: images into every machine's containerd first
 * (nothing is pulled), then definitions, then the objects, each applied server-side so that running it again
 * changes nothing. Resolves to their manifests: registerAddonApis then registers the APIs they serve, and
 * their probes tell when they work (see awaitInstalledAddons).
 */
export async function installAddons(
  context: ClusterContext,
  machines: MachineRef[],
  kubeconfig: string,
  progress: (detail: string) => void,
): Promise<AddonManifest[]> {
  const wanted = kiabAddons(context.spec, context.distribution);
  if (wanted.length === 0) return [];
  const clients = await kubeClients(kubeconfig);
  const { dir } = await addonAssets();
  const manifests = await manifestsFor(context, machines, wanted, clients, dir);
  progress('importing images');
  await importAddonImages(context, machines, wanted, dir);
  progress('applying');
  // An addon that brings no resource definitions is applied at once, beside the definitions of the others and
  // their wait to be established (seconds of a busy API server's time): metrics-server's clock, ready 10 s
  // after its first scrape, starts that much sooner.
  const defining = manifests.filter((manifest) => manifest.definitions.length > 0);
  await settleAll([
    applyObjects(
      clients,
      manifests.filter((manifest) => !defining.includes(manifest)).flatMap((manifest) => manifest.objects),
    ),
    applyDefined(context, clients, defining),
  ]);
  return manifests;
}

/** Registers the aggregated APIs the installed addons serve (see AddonManifest.registrations). */
export async function registerAddonApis(kubeconfig: string, manifests: AddonManifest[]): Promise<void> {
  const registrations = manifests.flatMap((manifest) => manifest.registrations);
  if (registrations.length > 0) await applyObjects(await kubeClients(kubeconfig), registrations);
}

/** Waits until all wanted addons work: those installed from `manifests`, and those the distribution brings. */
export async function awaitInstalledAddons(
  context: ClusterContext,
  kubeconfig: string,
  manifests: AddonManifest[],
  progress: (detail: string) => void,
): Promise<void> {
  await waitForAddons(context, await kubeClients(kubeconfig), probes(context.spec, context.distribution, manifests), progress);
}

export interface AddonStatus {
  name: AddonName;
  /** What provides it: kiab's install of an upstream component, or the distribution's own. */
  by: 'kiab' | 'distribution';
  component: string;
  ready: boolean | null;
  /** Why it is not ready; null when it is, or when the API did not answer. */
  problem: string | null;
}

/** Each wanted addon with its probe, without building what only an install needs (certificates, definitions). */
function addonChecks(context: ClusterContext): ReturnType<typeof probes> {
  const { spec, distribution } = context;
  const own = addonManifests(kiabAddons(spec, distribution), {
    subnetPrefix: context.subnet.prefix,
    boxIp: boxAddress(context.subnet),
    hasWorkers: true,
    metricsTls: { caPem: '', certPem: '', keyPem: '' },
    metallbDefinitions: [],
    gatewayDefinitions: [],
  });
  return probes(spec, distribution, own);
}

/** Waits until every wanted addon works again (after a restore), installing nothing. */
export async function awaitAddons(context: ClusterContext, kubeconfig: string, progress: (detail: string) => void): Promise<void> {
  await waitForAddons(context, await kubeClients(kubeconfig), addonChecks(context), progress);
}

/** For status: each wanted addon and whether it works now (ready null when the API does not answer). */
export async function addonStatuses(context: ClusterContext, kubeconfig: string | undefined): Promise<AddonStatus[]> {
  const clients = kubeconfig ? await kubeClients(kubeconfig) : undefined;
  return Promise.all(
    addonChecks(context).map(async ({ name, by, probe }) => {
      // An API that does not answer says nothing about the addon: ready is then unknown (null).
      const problem = clients ? await probeProblem(clients, probe).catch(() => null) : null;
      return { name, by, component: probe.component, ready: problem === null ? null : problem === undefined, problem: problem ?? null };
    }),
  );
}
