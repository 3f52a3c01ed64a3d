import type { V1Lease } from '@kubernetes/client-node';
import type { KubeClients } from './kube-objects.js';

/**
 * The kube-system leases nobody renewed since `since`, with the version to delete them at. After a restore
 * every holder of such a lease is gone (every machine was made anew), yet a new controller manager or
 * scheduler would wait for the remembered lease to expire (15 s) before it acts: until then no endpoint is
 * updated and no pod scheduled, so CoreDNS stays unreachable through its Service.
 */
export function staleLeases(leases: V1Lease[], since: Date): Array<{ name: string; resourceVersion: string }> {
  return leases
    .filter((lease) => lease.spec?.holderIdentity && lease.spec.renewTime !== undefined && new Date(lease.spec.renewTime).getTime() < since.getTime())
    .map((lease) => ({ name: lease.metadata?.name ?? '', resourceVersion: lease.metadata?.resourceVersion ?? '' }))
    .filter((lease) => lease.name && lease.resourceVersion);
}

/**
 * Deletes the stale leases (see staleLeases), each only at the version seen: one a new holder took meanwhile
 * stays. True once the API answered the listing.
 */
export async function releaseStaleLeases(api: KubeClients['coordination'], since: Date): Promise<boolean> {
  let leases: V1Lease[];
  try {
    leases = (await api.listNamespacedLease({ namespace: 'kube-system' })).items;
  } catch {
    return false;
  }
  await Promise.all(
    staleLeases(leases, since).map(({ name, resourceVersion }) =>
      // A lease already gone or taken over is what we wanted, or what we must leave.
      api.deleteNamespacedLease({ name, namespace: 'kube-system', body: { preconditions: { resourceVersion } } }).catch(() => undefined),
    ),
  );
  return true;
}
