/**
 * Certificates: a kubelet's signing request read, an addon's serving certificate made. @peculiar/x509 and
 * its ASN.1 parts (a tenth of the CLI's code) load the first time one is needed, which only `up` and the
 * addons do: every other command starts without them.
 */
import type { RequestedCertificate, ServingCertificate } from './x509.js';

export type { RequestedCertificate, ServingCertificate };

const x509 = (): Promise<typeof import('./x509.js')> => import('./x509.js');

export async function readCertificateRequest(pem: string): Promise<RequestedCertificate> {
  return (await x509()).readCertificateRequest(pem);
}

export async function makeServingCertificate(dnsNames: string[], days: number): Promise<ServingCertificate> {
  return (await x509()).makeServingCertificate(dnsNames, days);
}
