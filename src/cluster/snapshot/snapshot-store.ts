import { randomBytes } from 'node:crypto';
import { LABEL, clusterLabels, decodeIndex, type MachineRole } from '../../labels.js';
import { clusterNames } from '../../names.js';
import { subnetOfAddress } from '../../net/addresses.js';
import type { ImageInfo, Provider, VolumeInfo } from '../../provider/types.js';
import { kiabVersion } from '../../version.js';

/*
 * How snapshots are kept: one image per machine and one volume per machine volume, all labelled with the
 * cluster, the snapshot's name and a generation (one capture). A capture that was cut short (a crash, a
 * full disk) is an incomplete generation: never listed, never restored, removed by the next capture. A new
 * capture of a name replaces the old one only once it is complete.
 */

export interface StoredSnapshot {
  cluster: string;
  name: string;
  generation: string;
  createdAt: Date;
  images: ImageInfo[];
  volumes: VolumeInfo[];
  /** Every machine captured, and every volume of each. */
  complete: boolean;
}

export function newGeneration(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function snapshotLabels(cluster: string, snapshot: string, generation: string): Record<string, string> {
  return { ...clusterLabels(cluster, 'snapshot', kiabVersion), [LABEL.snapshot]: snapshot, [LABEL.snapshotGeneration]: generation };
}

/** The volume purposes a snapshot image says its machine had. */
export function capturedPurposes(image: ImageInfo): string[] {
  return (image.labels[LABEL.snapshotVolumes] ?? '').split(',').filter(Boolean);
}

export function imageMachine(cluster: string, image: ImageInfo): { name: string; role: MachineRole; index: number } {
  const role = image.labels[LABEL.role] as MachineRole;
  const index = decodeIndex(image.labels) ?? 0;
  return { name: clusterNames(cluster).machine(role, index), role, index };
}

/** The snapshot volume holding `purpose` of `machine` in this capture. */
export function capturedVolume(stored: Pick<StoredSnapshot, 'volumes'>, machine: string, purpose: string): VolumeInfo | undefined {
  return stored.volumes.find((volume) => volume.labels[LABEL.machine] === machine && volume.labels[LABEL.purpose] === purpose);
}

function isComplete(stored: Omit<StoredSnapshot, 'complete'>): boolean {
  const expected = Number(stored.images[0]?.labels[LABEL.snapshotMachines]);
  if (!Number.isInteger(expected) || stored.images.length !== expected) return false;
  return stored.images.every((image) => capturedPurposes(image).every((purpose) => capturedVolume(stored, imageMachine(stored.cluster, image).name, purpose)));
}

/** Every capture the engine holds, of one cluster (and name) or of all, complete or not, newest first. */
export async function storedSnapshots(provider: Provider, cluster?: string, snapshot?: string): Promise<StoredSnapshot[]> {
  const selector = { [LABEL.managed]: '', [LABEL.snapshot]: snapshot ?? '', ...(cluster ? { [LABEL.cluster]: cluster } : {}) };
  const [images, volumes] = await Promise.all([provider.listImages(selector), provider.listVolumes(selector)]);
  const groups = new Map<string, Omit<StoredSnapshot, 'complete'>>();
  const groupOf = (labels: Record<string, string>, createdAt?: Date): Omit<StoredSnapshot, 'complete'> | undefined => {
    const [owner, name, generation] = [labels[LABEL.cluster], labels[LABEL.snapshot], labels[LABEL.snapshotGeneration] ?? ''];
    if (!owner || !name) return undefined;
    const key = `${owner}/${name}/${generation}`;
    const group = groups.get(key) ?? { cluster: owner, name, generation, createdAt: createdAt ?? new Date(0), images: [], volumes: [] };
    if (createdAt && createdAt > group.createdAt) group.createdAt = createdAt;
    groups.set(key, group);
    return group;
  };
  for (const image of images) groupOf(image.labels, image.createdAt)?.images.push(image);
  for (const volume of volumes) groupOf(volume.labels)?.volumes.push(volume);
  return [...groups.values()].map((group) => ({ ...group, complete: isComplete(group) })).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}

/** The /24 a captured machine was on, from the fixed address its image carries. */
export function capturedSubnet(image: ImageInfo): string | undefined {
  const ip = image.labels[LABEL.ip];
  return ip ? subnetOfAddress(ip) : undefined;
}

/** Each cluster that has snapshots, with the /24s they were taken on (a restore goes back to its own). */
export async function snapshotSubnets(provider: Provider): Promise<Map<string, Set<string>>> {
  const subnets = new Map<string, Set<string>>();
  for (const image of await provider.listImages({ [LABEL.managed]: '', [LABEL.snapshot]: '' })) {
    const [cluster, subnet] = [image.labels[LABEL.cluster], capturedSubnet(image)];
    if (cluster && subnet) subnets.set(cluster, (subnets.get(cluster) ?? new Set()).add(subnet));
  }
  return subnets;
}

/** The newest complete capture of a snapshot, if any. */
export async function completeSnapshot(provider: Provider, cluster: string, snapshot: string): Promise<StoredSnapshot | undefined> {
  return (await storedSnapshots(provider, cluster, snapshot)).find((stored) => stored.complete);
}

export async function removeStored(provider: Provider, stored: StoredSnapshot): Promise<void> {
  // A capture cut short (kiab killed mid-copy) can leave its volume-copy helper running on the new volume, and
  // the engine will not remove a volume in use: the helpers carry the capture's labels and go first.
  const helpers = await provider.listContainers({
    [LABEL.managed]: '',
    [LABEL.cluster]: stored.cluster,
    [LABEL.snapshot]: stored.name,
    [LABEL.snapshotGeneration]: stored.generation,
  });
  await Promise.all(helpers.map((helper) => provider.removeContainer(helper.name)));
  for (const image of stored.images) for (const ref of image.tags.length ? image.tags : [image.id]) await provider.removeImage(ref);
  await Promise.all(stored.volumes.map((volume) => provider.removeVolume(volume.name)));
}
