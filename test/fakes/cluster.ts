import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter } from '../../src/reporter.js';
import { up } from '../../src/cluster/lifecycle/up.js';
import type { ClusterStatus } from '../../src/cluster/status.js';
import { LABEL } from '../../src/labels.js';
import { clusterSpecSchema, type ClusterSpecInput } from '../../src/spec/schema.js';
import { FakeProvider, type Call, type Method } from './provider.js';

/** What the cluster layer needs around it in a test: a fake engine with kiab's images, and its own lock and cache folders. */

export const NODE_IMAGE = 'fake/kiab-node:test';
export const BOX_IMAGE = 'fake/kiab-box:test';

export const quiet: Reporter = {
  step: () => ({ update: () => undefined, done: () => undefined, fail: () => undefined }),
  warn: () => undefined,
  info: () => undefined,
};

/** Gives this test process its own lock and cache folders; call once per file (before). */
export async function isolateFolders(): Promise<void> {
  process.env.XDG_RUNTIME_DIR = await mkdtemp(join(tmpdir(), 'kiab-fake-run-'));
  process.env.KIAB_CACHE_DIR = await mkdtemp(join(tmpdir(), 'kiab-fake-cache-'));
  // delete removes kubeconfig entries: never the user's own file.
  process.env.KUBECONFIG = join(await mkdtemp(join(tmpdir(), 'kiab-fake-kube-')), 'config');
}

export function engine(): FakeProvider {
  return new FakeProvider({ images: [NODE_IMAGE, BOX_IMAGE] });
}

export function specOf(name: string, counts: { servers?: number; workers?: number } = {}, extra: Partial<ClusterSpecInput> = {}) {
  return clusterSpecSchema.parse({
    name,
    distribution: 'none',
    servers: counts.servers ?? 1,
    workers: counts.workers ?? 2,
    images: { node: NODE_IMAGE, box: BOX_IMAGE },
    ...extra,
  });
}

export function upCluster(
  provider: FakeProvider,
  name: string,
  counts: { servers?: number; workers?: number } = {},
  extra: Partial<ClusterSpecInput> = {},
): Promise<ClusterStatus> {
  return up({ provider, spec: specOf(name, counts, extra), reporter: quiet, snapshot: false });
}

/**
 * Everything the engine holds of one cluster, without ids and timestamps, so that two engines (or one,
 * before and after) can be compared: what `up` converges to.
 */
export function inventory(provider: FakeProvider, cluster: string) {
  const ours = (labels: Record<string, string>): boolean => labels[LABEL.cluster] === cluster;
  const containers = [...provider.containers.values()]
    .filter((container) => ours(container.info.labels))
    .map(({ info, files }) => ({
      name: info.name,
      image: info.image,
      state: info.state,
      labels: info.labels,
      addresses: info.addresses,
      files: Object.fromEntries([...files].sort()),
    }));
  const networks = [...provider.networks.values()].filter((network) => ours(network.labels)).map(({ name, subnet, labels }) => ({ name, subnet, labels }));
  const volumes = [...provider.volumes.values()].filter((volume) => ours(volume.labels)).map(({ name, labels }) => ({ name, labels }));
  const images = provider.images.filter((image) => ours(image.labels)).map(({ tags, labels }) => ({ tags, labels }));
  const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
  return { containers: containers.sort(byName), networks, volumes: volumes.sort(byName), images };
}

/** Names of the objects a method was called on, in call order. */
export function namesOf(calls: Call[], method: Method): string[] {
  return calls.filter((call) => call.method === method).map((call) => call.name ?? '');
}

/** Positions in the call log of the calls of `method` whose object matches, in order. */
export function positionsOf(provider: FakeProvider, method: Method, match: (name: string) => boolean = () => true): number[] {
  return provider.calls.flatMap((call, position) => (call.method === method && match(call.name ?? '') ? [position] : []));
}

export function machineNames(cluster: string, servers: number, workers: number): string[] {
  const names = (role: string, count: number): string[] => Array.from({ length: count }, (_, index) => `kiab-${cluster}-${role}-${index}`);
  return [...names('server', servers), ...names('worker', workers)];
}
