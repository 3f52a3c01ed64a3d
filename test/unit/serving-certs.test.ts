import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from '@peculiar/x509';
import { issuedTo, KUBELET_SERVING_SIGNER, requestsToApprove, type SigningRequest } from '../../src/distribution/kubeadm/serving-certs.js';
import type { MachineRef } from '../../src/distribution/types.js';

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
