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

/** The version the newest record holds, if any. */
export function recordedVersion(volumes: readonly VolumeInfo[]): string | undefined {
  const records = volumes.filter(isVersionRecord).sort((a, b) => Number(b.labels[LABEL.recordedAt] ?? 0) - Number(a.labels[LABEL.recordedAt] ?? 0));
  return records[0]?.labels[LABEL.kubernetesVersion];
}

/** The spec a cluster runs: as it was made, with the version its records say. */
export function withRecordedVersion(spec: ClusterSpec | undefined, volumes: readonly VolumeInfo[]): ClusterSpec | undefined {
  const version = recordedVersion(volumes);
  return spec && version ? { ...spec, kubernetesVersion: version } : spec;
}

/**
 * Records that the cluster runs `version`: a record is written unless the cluster was made with that version,
 * then every other record goes. Running it again does nothing.
 */
export async function recordVersion(provider: Provider, names: ClusterNames, madeWith: ClusterSpec, version: string | undefined): Promise<void> {
  const records = (await provider.listVolumes({ [LABEL.managed]: '', [LABEL.cluster]: names.cluster })).filter(isVersionRecord);
  const keep = version !== undefined && version !== madeWith.kubernetesVersion ? names.versionRecord(version) : undefined;
  if (keep && !records.some((record) => record.name === keep)) {
    await provider.createVolume(keep, {
      ...clusterLabels(names.cluster, 'record', kiabVersion),
      [LABEL.kubernetesVersion]: version!,
      [LABEL.recordedAt]: String(Date.now()),
    });
  }
  for (const record of records) if (record.name !== keep) await provider.removeVolume(record.name);
}
