import { KiabError } from '../../errors.js';
import { canonicalIpv6, ipv6Of } from '../../net/ipv6.js';
import { readCertificateRequest } from '../../pki/index.js';
import { fileExists, run, tryRun } from '../../provider/run.js';
import { poll } from '../../wait.js';
import type { DistributionContext, MachineRef } from '../types.js';
import { KUBECTL } from './config.js';

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
  // The machine's IPv6 address is its IPv4 one's twin (net/ipv6.ts): its own on a cluster with IPv6, no one's on another.
  const own = new Set([machine.ip, ipv6Of(machine.ip)]);
  const foreign = [
    ...asked.dnsNames.filter((name) => name !== machine.name),
    ...asked.ipAddresses.filter((ip) => !own.has(ip.includes(':') ? canonicalIpv6(ip) : ip)),
    ...asked.otherNames,
  ];
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

/**
 * Approves the kubelet serving certificate requests of `machines` that ask for exactly their own name and
 * address (see refusal above), until every one of them holds its certificate. It may start before some
 * machines have joined: a round costs one request listing until a machine's certificate is issued, and only
 * then is its file looked for. A request kiab will not approve is left for the user to see, and named at
 * the deadline.
 */
export async function approveServingCertificates(
  context: Pick<DistributionContext, 'provider' | 'deadline' | 'signal'>,
  control: MachineRef,
  machines: MachineRef[],
  signal = context.signal,
): Promise<void> {
  let refused: Awaited<ReturnType<typeof requestsToApprove>>['refused'] = [];
  let lacking: MachineRef[] = machines;
  // A kubelet may hold a certificate whose request is long gone (issued ones are cleaned up after an hour):
  // the first look at the files takes every machine.
  let firstLook = true;
  await poll(
    async () => {
      const listed = await tryRun(context.provider, control.name, [...KUBECTL, 'get', 'csr', '-o', 'json']);
      if (listed.exitCode !== 0) return undefined;
      const requests = (JSON.parse(listed.stdout) as { items: SigningRequest[] }).items;
      const decision = await requestsToApprove(requests, lacking);
      refused = decision.refused;
      if (decision.approve.length > 0) {
        await run(context.provider, control.name, [...KUBECTL, 'certificate', 'approve', ...decision.approve], {
          what: 'approving kubelet serving certificates',
        });
        return undefined;
      }
      // An issued certificate may be an earlier machine's of the same name: the file on the machine decides.
      const issued = new Set(issuedTo(requests));
      const held = await Promise.all(
        lacking.map(async (machine) => (firstLook || issued.has(machine.name)) && (await fileExists(context.provider, machine.name, KUBELET_SERVING_CERT))),
      );
      firstLook = false;
      lacking = lacking.filter((_, index) => !held[index]);
      return lacking.length === 0 ? true : undefined;
    },
    {
      interval: 500,
      deadline: context.deadline,
      ...(signal ? { signal } : {}),
      timeout: () =>
        new KiabError(
          `the kubelets of ${lacking.map((machine) => machine.name).join(', ')} got no serving certificate${refused.length ? `; kiab did not approve ${refused.map((entry) => `${entry.name} (${entry.reason})`).join(', ')}` : ''}`,
          { hint: `see the requests with \`kubectl get csr\` and the kubelet with \`kiab exec NODE -- journalctl -u kubelet\`` },
        ),
    },
  );
}
