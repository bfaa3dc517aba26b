/**
 * @module Reads the certificate a TLS server presents without trusting it, so a person can decide whether to
 * pin it ("trust this certificate?" when a connection test fails with a TLS error, ADR 0135). Nothing is sent
 * after the handshake; the connection goes through the caller's lookup (the SSRF guard).
 */
import type { LookupFunction } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';

export interface PresentedCertificate {
  /** SHA-256 of the DER certificate, `AA:BB:…` (the form `fingerprint_sha256` accepts). */
  fingerprint_sha256: string;
  subject: string;
  issuer: string;
  valid_from: string;
  valid_to: string;
  self_signed: boolean;
}

function names(entity: PeerCertificate['subject'] | undefined): string {
  if (!entity) return '';
  return Object.entries(entity)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}

/** The leaf certificate of `https://host:port`, or null when no TLS handshake completes within `timeoutMs`. */
export function presentedCertificate(
  url: string,
  options: { lookup?: LookupFunction; timeoutMs?: number } = {},
): Promise<PresentedCertificate | null> {
  const target = new URL(url);
  if (target.protocol !== 'https:') return Promise.resolve(null);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(target.port || 443),
      ...(host.includes(':') || /^[\d.]+$/.test(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
    const done = (value: PresentedCertificate | null) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(options.timeoutMs ?? 5_000, () => done(null));
    socket.once('error', () => done(null));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      if (!cert?.fingerprint256) return done(null);
      done({
        fingerprint_sha256: cert.fingerprint256,
        subject: names(cert.subject),
        issuer: names(cert.issuer),
        valid_from: new Date(cert.valid_from).toISOString(),
        valid_to: new Date(cert.valid_to).toISOString(),
        self_signed: names(cert.subject) === names(cert.issuer),
      });
    });
  });
}
