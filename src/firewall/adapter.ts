/**
 * @module Builds a vendor adapter from a gateway's connection: TLS trust from `verify_ssl` / `ca_pem` /
 * `fingerprint_sha256`, the SSRF guard on every connection (`guardedLookup`, plus a re-check of the URL's
 * host), and the connection test behind `/gateways/test` (docs/adr/0090-gateways-and-adapters.md).
 */
import type { HttpTimeouts, TlsTrust } from '../adapters/http.ts';
import { PfSenseAdapter } from '../adapters/pfsense/index.ts';
import type { ApplyOptions } from '../adapters/pfsense/types.ts';
import { presentedCertificate, type PresentedCertificate } from '../adapters/tls-peek.ts';
import { AdapterError, type FirewallAdapter } from '../adapters/types.ts';
import { DomainError } from '../errors.ts';
import { checkGatewayHost, guardedLookup, type HostAllowList } from '../net/ssrf.ts';

export const VENDORS = ['pfsense'] as const;
export type Vendor = (typeof VENDORS)[number];

/** What an adapter needs to reach one gateway; `apiKey` is plaintext and lives only in memory. */
export interface GatewayConnection {
  /** The saved gateway's id (shares one circuit breaker across adapters); absent for an unsaved test. */
  id?: string;
  vendor: Vendor;
  url: string;
  apiKey: string;
  verifySsl: boolean;
  caPem: string | null;
  fingerprintSha256: string | null;
}

/** Knobs for tests and benchmarks; production uses the adapter defaults. */
export interface AdapterTuning {
  timeouts?: Partial<HttpTimeouts>;
  apply?: Partial<ApplyOptions>;
  retries?: number;
  breakerThreshold?: number;
}

export interface AdapterSettings {
  allowHosts: HostAllowList;
  tuning?: AdapterTuning;
}

/** A pinned fingerprint wins, then a CA bundle, then "do not verify", else the system CAs. */
export function tlsTrustOf(
  conn: Pick<GatewayConnection, 'verifySsl' | 'caPem' | 'fingerprintSha256'>,
): TlsTrust {
  if (conn.fingerprintSha256) return { mode: 'fingerprint', sha256: conn.fingerprintSha256 };
  if (conn.caPem) return { mode: 'ca', caPem: conn.caPem };
  if (!conn.verifySsl) return { mode: 'insecure' };
  return { mode: 'system' };
}

export function buildAdapter(
  conn: GatewayConnection,
  settings: AdapterSettings,
): FirewallAdapter & { close(): Promise<void> } {
  const tuning = settings.tuning ?? {};
  return new PfSenseAdapter({
    url: conn.url,
    apiKey: conn.apiKey,
    tls: tlsTrustOf(conn),
    lookup: guardedLookup(settings.allowHosts),
    ...(conn.id ? { gatewayKey: conn.id } : {}),
    ...(tuning.timeouts ? { timeouts: tuning.timeouts } : {}),
    ...(tuning.apply ? { apply: tuning.apply } : {}),
    ...(tuning.retries !== undefined ? { retry: { maxRetries: tuning.retries } } : {}),
    ...(tuning.breakerThreshold !== undefined ? { breaker: { threshold: tuning.breakerThreshold } } : {}),
  });
}

/** The adapters' code for a TLS certificate failure (docs/pfsense.md). */
const TLS_ERROR_CODE = 'PFS003';

export interface GatewayTestResult {
  ok: boolean;
  version: string | null;
  api_version: string | null;
  error: { code: string; message: string } | null;
  /** After a TLS failure: the certificate the gateway presented, to pin if the person trusts it. */
  certificate: PresentedCertificate | null;
}

/**
 * Connects and reads the version. Never throws for a device problem: the answer carries the vendor code
 * (PFS000…) and a message that never contains the key. The host is re-checked first (the allow-list may
 * have changed since the gateway was saved, and an address literal never goes through `guardedLookup`).
 */
export async function testGateway(
  conn: GatewayConnection,
  settings: AdapterSettings,
): Promise<GatewayTestResult> {
  await checkGatewayHost(conn.url, { allowHosts: settings.allowHosts });
  const adapter = buildAdapter(conn, settings);
  try {
    const version = await adapter.version();
    return { ok: true, version: version.product, api_version: version.api, error: null, certificate: null };
  } catch (err) {
    if (err instanceof AdapterError || err instanceof DomainError) {
      const code = err instanceof AdapterError ? err.code : err.code;
      const certificate =
        err instanceof AdapterError && err.code === TLS_ERROR_CODE
          ? await presentedCertificate(conn.url, { lookup: guardedLookup(settings.allowHosts) })
          : null;
      return { ok: false, version: null, api_version: null, error: { code, message: err.message }, certificate };
    }
    throw err;
  } finally {
    await adapter.close();
  }
}
