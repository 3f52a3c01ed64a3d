import { LABEL, clusterLabels } from '../../labels.js';
import type { ClusterNames } from '../../names.js';
import type { Provider, VolumeInfo } from '../../provider/types.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { kiabVersion } from '../../version.js';

/*
 * The Kubernetes version a cluster runs once an upgrade (or a restore of a snapshot taken at another version)
 * changed it. The spec on the cluster's network says what the cluster was made with, and an engine cannot
 * relabel a network: the version that changed is kept on an empty volume of its own, labelled like every
 * other object, so `delete` removes it and labels stay the only state. Writing a record and removing the old
 * ones are two calls: a crash between them leaves two, and the newest wins.
 */

export function isVersionRecord(volume: VolumeInfo): boolean {
  return volume.labels[LABEL.role] === 'record';
}

function newestRecord(volumes: readonly VolumeInfo[]): VolumeInfo | undefined {
  return volumes.filter(isVersionRecord).sort((a, b) => Number(b.labels[LABEL.recordedAt] ?? 0) - Number(a.labels[LABEL.recordedAt] ?? 0))[0];
}

/** The version the newest record holds, if any. */
export function recordedVersion(volumes: readonly VolumeInfo[]): string | undefined {
  return newestRecord(volumes)?.labels[LABEL.kubernetesVersion];
}

/**
 * The spec a cluster runs: as it was made, with the version its records say; after an upgrade, which brought
 * every machine to it, no node entry keeps a version of its own.
 */
export function withRecordedVersion(spec: ClusterSpec | undefined, volumes: readonly VolumeInfo[]): ClusterSpec | undefined {
  const record = newestRecord(volumes);
  const version = record?.labels[LABEL.kubernetesVersion];
  if (!spec || !version) return spec;
  const nodes = record.labels[LABEL.nodesAtVersion] === 'true' ? spec.nodes.map(({ kubernetesVersion: _own, ...node }) => node) : spec.nodes;
  return { ...spec, kubernetesVersion: version, nodes };
}

/**
 * Records that the cluster runs `version` (`everyNode`: node entries' own versions included): a record is
 * written unless the cluster runs what it was made with, then every other record goes. Running it again does
 * nothing.
 */
export async function recordVersion(
  provider: Provider,
  names: ClusterNames,
  madeWith: ClusterSpec,
  version: string | undefined,
  everyNode: boolean,
): Promise<void> {
  const records = (await provider.listVolumes({ [LABEL.managed]: '', [LABEL.cluster]: names.cluster })).filter(isVersionRecord);
  const ownVersions = everyNode && madeWith.nodes.some((node) => node.kubernetesVersion !== undefined);
  const changed = version !== undefined && (version !== madeWith.kubernetesVersion || ownVersions);
  const keep = changed ? names.versionRecord(version) : undefined;
  if (keep && !records.some((record) => record.name === keep)) {
    await provider.createVolume(keep, {
      ...clusterLabels(names.cluster, 'record', kiabVersion),
      [LABEL.kubernetesVersion]: version!,
      [LABEL.nodesAtVersion]: String(everyNode),
      [LABEL.recordedAt]: String(Date.now()),
    });
  }
  for (const record of records) if (record.name !== keep) await provider.removeVolume(record.name);
}
