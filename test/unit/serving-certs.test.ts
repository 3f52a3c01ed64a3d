import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from '@peculiar/x509';
import { KUBECTL } from '../../src/distribution/kubeadm/config.js';
import {
  approveServingCertificates,
  issuedTo,
  KUBELET_SERVING_CERT,
  KUBELET_SERVING_SIGNER,
  requestsToApprove,
  type SigningRequest,
} from '../../src/distribution/kubeadm/serving-certs.js';
import type { MachineRef } from '../../src/distribution/types.js';
import { FakeProvider } from '../fakes/provider.js';

const worker: MachineRef = { name: 'kiab-dev-worker-0', role: 'worker', index: 0, ip: '172.28.0.50' };
const other: MachineRef = { name: 'kiab-dev-worker-1', role: 'worker', index: 1, ip: '172.28.0.51' };
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A request as a kubelet makes it, with the fields a test changes. */
async function request(
  name: string,
  options: { node?: string; subjectNode?: string; dns?: string[]; ips?: string[]; signer?: string; usages?: string[]; approved?: boolean } = {},
): Promise<SigningRequest> {
  const node = options.node ?? worker.name;
  const keys = await crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify']);
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name: `O=system:nodes, CN=system:node:${options.subjectNode ?? node}`,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new SubjectAlternativeNameExtension([
        ...(options.dns ?? [node]).map((value) => ({ type: 'dns' as const, value })),
        ...(options.ips ?? [worker.ip]).map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  return {
    metadata: { name },
    spec: {
      request: Buffer.from(csr.toString('pem')).toString('base64'),
      signerName: options.signer ?? KUBELET_SERVING_SIGNER,
      username: `system:node:${node}`,
      groups: ['system:nodes', 'system:authenticated'],
      usages: options.usages ?? ['digital signature', 'server auth'],
    },
    ...(options.approved ? { status: { conditions: [{ type: 'Approved' }] } } : {}),
  };
}

describe('kubelet serving certificate approval', () => {
  it("approves a machine's request for its own name and address", async () => {
    const decision = await requestsToApprove([await request('csr-good')], [worker]);
    assert.deepEqual(decision, { approve: ['csr-good'], refused: [] });
  });

  it("approves a dual-stack machine's request for its IPv4 address and its IPv6 twin, and refuses another IPv6 address", async () => {
    const twin = await requestsToApprove([await request('csr-dual', { ips: [worker.ip, 'FD6B:6961:62AC:1C00:0:0:0:50'] })], [worker]);
    assert.deepEqual(twin, { approve: ['csr-dual'], refused: [] });
    const other = await requestsToApprove([await request('csr-v6', { ips: [worker.ip, 'fd6b:6961:62ac:1c00::51'] })], [worker]);
    assert.deepEqual(
      other.refused.map((entry) => entry.reason),
      ["names that are not kiab-dev-worker-0's: fd6b:6961:62ac:1c00::51"],
    );
  });

  it('refuses a request naming another address or name, or another subject, and says why', async () => {
    const decision = await requestsToApprove(
      [
        await request('csr-ip', { ips: [worker.ip, '172.28.0.51'] }),
        await request('csr-dns', { dns: [worker.name, 'kubernetes.default'] }),
        await request('csr-subject', { subjectNode: other.name }),
        await request('csr-usage', { usages: ['digital signature', 'server auth', 'client auth'] }),
      ],
      [worker, other],
    );
    assert.deepEqual(decision.approve, []);
    assert.deepEqual(
      decision.refused.map((entry) => [entry.name, entry.reason]),
      [
        ['csr-ip', "names that are not kiab-dev-worker-0's: 172.28.0.51"],
        ['csr-dns', "names that are not kiab-dev-worker-0's: kubernetes.default"],
        ['csr-subject', 'subject CN=system:node:kiab-dev-worker-1 O=system:nodes'],
        ['csr-usage', 'usages digital signature, server auth, client auth'],
      ],
    );
  });

  it('leaves alone other signers, decided requests, and machines it was not asked about', async () => {
    const decision = await requestsToApprove(
      [
        await request('csr-client', { signer: 'kubernetes.io/kube-apiserver-client-kubelet' }),
        await request('csr-done', { approved: true }),
        await request('csr-other', { node: other.name, ips: [other.ip] }),
      ],
      [worker],
    );
    assert.deepEqual(decision, { approve: [], refused: [] });
  });

  it('counts a machine as served only by a serving request of its own node identity whose certificate was issued', async () => {
    const issued = (request: SigningRequest): SigningRequest => ({ ...request, status: { conditions: [{ type: 'Approved' }], certificate: 'LS0t' } });
    const requests = [
      issued(await request('csr-issued')),
      await request('csr-approved-only', { node: other.name, ips: [other.ip], approved: true }),
      issued(await request('csr-client', { node: other.name, signer: 'kubernetes.io/kube-apiserver-client-kubelet' })),
    ];
    assert.deepEqual(issuedTo(requests), [worker.name]);
  });
});

describe('kubelet serving certificate approval loop', () => {
  const server: MachineRef = { name: 'kiab-dev-server-0', role: 'server', index: 0, ip: '172.28.0.10' };

  /** Running machines whose `kubectl get csr` answers `listings` in turn (the last one from then on); approvals are recorded. */
  async function cluster(listings: SigningRequest[][], options: { certificateHeld: boolean }): Promise<{ provider: FakeProvider; approved: string[][] }> {
    const provider = new FakeProvider({ images: ['node'] });
    for (const machine of [server, worker]) {
      await provider.createContainer({ name: machine.name, hostname: machine.name, image: 'node', kind: 'machine', labels: {}, volumes: [], publish: [] });
      await provider.startContainer(machine.name);
      provider.onExec(machine.name, `test -e ${KUBELET_SERVING_CERT}`, { exitCode: options.certificateHeld ? 0 : 1 });
    }
    let round = 0;
    provider.onExec(server.name, [...KUBECTL, 'get', 'csr'].join(' '), () => ({
      stdout: JSON.stringify({ items: listings[Math.min(round++, listings.length - 1)] }),
    }));
    const approved: string[][] = [];
    provider.onExec(server.name, [...KUBECTL, 'certificate', 'approve'].join(' '), (command) => {
      approved.push(command.slice(KUBECTL.length + 2));
      return {};
    });
    return { provider, approved };
  }

  it("approves a machine's request, then ends once the certificate is issued and on the machine", async () => {
    const pending = await request('csr-good');
    const issued: SigningRequest = { ...pending, status: { conditions: [{ type: 'Approved' }], certificate: 'LS0t' } };
    const { provider, approved } = await cluster([[pending], [issued]], { certificateHeld: true });
    await approveServingCertificates({ provider, deadline: Date.now() + 10_000 }, server, [worker]);
    assert.deepEqual(approved, [['csr-good']]);
  });

  it('names at the deadline the machines without a certificate and the requests it would not approve', async () => {
    const { provider, approved } = await cluster([[await request('csr-ip', { ips: [worker.ip, '172.28.0.51'] })]], { certificateHeld: false });
    await assert.rejects(
      approveServingCertificates({ provider, deadline: Date.now() + 600 }, server, [worker]),
      /the kubelets of kiab-dev-worker-0 got no serving certificate; kiab did not approve csr-ip \(names that are not kiab-dev-worker-0's: 172\.28\.0\.51\)/,
    );
    assert.deepEqual(approved, []);
  });
});
