// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequest,
  PemConverter,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
} from '@peculiar/x509';

/** What a certificate signing request asks for: its subject and the names it would be valid for. */
export interface RequestedCertificate {
  commonName: string | undefined;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  /** Any other kind of subject alternative name (e-mail, URI), which a server certificate has no use for. */
  otherNames: string[];
  /** Whether the request is signed by the key it carries. */
  signatureValid: boolean;
}

const SUBJECT_ALT_NAME = '2.5.29.17';

/** Reads a PEM (or base64 DER) PKCS#10 request. */
export async function readCertificateRequest(pem: string): Promise<RequestedCertificate> {
  const request = new Pkcs10CertificateRequest(pem);
  const extension = request.getExtension(SUBJECT_ALT_NAME);
  const names = extension ? new SubjectAlternativeNameExtension(extension.rawData).names.items : [];
  return {
    commonName: request.subjectName.getField('CN')[0],
    organizations: request.subjectName.getField('O'),
    dnsNames: names.filter((name) => name.type === 'dns').map((name) => name.value),
    ipAddresses: names.filter((name) => name.type === 'ip').map((name) => name.value),
    otherNames: names.filter((name) => name.type !== 'dns' && name.type !== 'ip').map((name) => `${name.type}:${name.value}`),
    signatureValid: await request.verify(),
  };
}

export interface ServingCertificate {
  /** The certificate of the CA that signed it, for clients to trust (an APIService's caBundle). */
  caPem: string;
  certPem: string;
  keyPem: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/**
 * A server certificate for `dnsNames`, signed by a CA made for it alone whose private key is never kept: the
 * CA can vouch for this one certificate and nothing else.
 */
export async function makeServingCertificate(dnsNames: string[], days: number): Promise<ServingCertificate> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * DAY_MS);
  const caKeys = await crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify']);
  const ca = await X509CertificateGenerator.createSelfSigned({
    name: `CN=kiab ${dnsNames[0]} CA`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [new BasicConstraintsExtension(true, 0, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true)],
  });
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await X509CertificateGenerator.create({
    subject: `CN=${dnsNames[0]}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
      new SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))),
    ],
  });
  const key = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem: PemConverter.encode(key, 'PRIVATE KEY') };
}
