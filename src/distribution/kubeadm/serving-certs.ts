import { readCertificateRequest } from '../../pki/index.js';
import type { MachineRef } from '../types.js';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
/** Where a kubelet keeps the serving certificate it was issued (kubelet's own file name). */
export const KUBELET_SERVING_CERT = '/var/lib/kubelet/pki/kubelet-server-current.pem';

/** The fields of a CertificateSigningRequest that the decision reads, as `kubectl get csr -o json` gives them. */
export interface SigningRequest {
  metadata: { name: string };
  spec: { request: string; signerName: string; username?: string; groups?: string[]; usages?: string[] };
  status?: { conditions?: Array<{ type: string }>; certificate?: string };
}

const SERVING_USAGES = new Set(['digital signature', 'key encipherment', 'server auth']);

/**
 * Why kiab will not approve this request for `machine`, or undefined when it will: a kubelet serving
 * certificate asked for by that machine's own node identity, for that machine's own name and address only.
 * The API server vouches for who asked (the username); the request itself must then ask for nothing more.
 */
export async function refusal(request: SigningRequest, machine: MachineRef): Promise<string | undefined> {
  const node = `system:node:${machine.name}`;
  if (request.spec.signerName !== KUBELET_SERVING_SIGNER) return `signer ${request.spec.signerName}`;
  if (request.spec.username !== node || !request.spec.groups?.includes('system:nodes')) return `asked for by ${request.spec.username ?? 'nobody'}`;
  const usages = request.spec.usages ?? [];
  if (!usages.includes('server auth') || usages.some((usage) => !SERVING_USAGES.has(usage))) return `usages ${usages.join(', ')}`;
  let asked;
  try {
    asked = await readCertificateRequest(Buffer.from(request.spec.request, 'base64').toString());
  } catch (error) {
    return `an unreadable request (${(error as Error).message})`;
  }
  if (!asked.signatureValid) return 'a request its key did not sign';
  if (asked.commonName !== node || asked.organizations.join(',') !== 'system:nodes') return `subject CN=${asked.commonName} O=${asked.organizations.join(',')}`;
  const foreign = [...asked.dnsNames.filter((name) => name !== machine.name), ...asked.ipAddresses.filter((ip) => ip !== machine.ip), ...asked.otherNames];
  if (foreign.length > 0) return `names that are not ${machine.name}'s: ${foreign.join(', ')}`;
  if (asked.dnsNames.length + asked.ipAddresses.length === 0) return 'no name at all';
  return undefined;
}

function decided(request: SigningRequest): boolean {
  return request.status?.conditions?.some((condition) => condition.type === 'Approved' || condition.type === 'Denied' || condition.type === 'Failed') ?? false;
}

/** The undecided requests to approve for `machines`, and why each other undecided request of theirs is left alone. */
export async function requestsToApprove(
  requests: readonly SigningRequest[],
  machines: readonly MachineRef[],
): Promise<{ approve: string[]; refused: Array<{ machine: string; name: string; reason: string }> }> {
  const approve: string[] = [];
  const refused: Array<{ machine: string; name: string; reason: string }> = [];
  for (const request of requests) {
    if (decided(request) || request.spec.signerName !== KUBELET_SERVING_SIGNER) continue;
    const machine = machines.find((candidate) => request.spec.username === `system:node:${candidate.name}`);
    if (!machine) continue;
    const reason = await refusal(request, machine);
    if (reason) refused.push({ machine: machine.name, name: request.metadata.name, reason });
    else approve.push(request.metadata.name);
  }
  return { approve, refused };
}

/** The machines (by name) some approved request of whose node identity has its certificate issued. */
export function issuedTo(requests: readonly SigningRequest[]): string[] {
  const prefix = 'system:node:';
  return requests
    .filter((request) => request.spec.signerName === KUBELET_SERVING_SIGNER && request.status?.certificate && request.spec.username?.startsWith(prefix))
    .map((request) => request.spec.username!.slice(prefix.length));
}
