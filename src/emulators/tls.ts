/**
 * @module Self-signed TLS material for the vendor emulators: a fresh certificate per start, its SHA-256
 * fingerprint (colon form, as browsers and pfSense show it) and the PEM to trust it as a CA.
 */
import { X509Certificate } from 'node:crypto';
import selfsigned from 'selfsigned';

export interface EmulatorCertificate {
  /** PEM certificate; also usable as the CA bundle that trusts it (it is self-signed). */
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER certificate, `AA:BB:…` upper-case. */
  fingerprint256: string;
}

interface CertificateOptions {
  commonName?: string;
  /** DNS names in the subjectAltName; default `localhost`. */
  dnsNames?: string[];
  /** IP addresses in the subjectAltName; default 127.0.0.1 and ::1. */
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

/** Generates a P-256 self-signed certificate (EC keeps start-up fast on a small machine). */
export async function generateCertificate(opts: CertificateOptions = {}): Promise<EmulatorCertificate> {
  const dnsNames = opts.dnsNames ?? ['localhost'];
  const ipAddresses = opts.ipAddresses ?? ['127.0.0.1', '::1'];
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + 365 * 24 * 3600 * 1000);
  const generated = await selfsigned.generate(
    [{ name: 'commonName', value: opts.commonName ?? 'portcullis-lab' }],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: notBefore,
      notAfterDate: notAfter,
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...dnsNames.map((value) => ({ type: 2 as const, value })),
            ...ipAddresses.map((ip) => ({ type: 7 as const, ip })),
          ],
        },
      ],
    },
  );
  return {
    certPem: generated.cert,
    keyPem: generated.private,
    fingerprint256: new X509Certificate(generated.cert).fingerprint256,
  };
}
