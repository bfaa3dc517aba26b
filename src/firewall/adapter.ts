/**
 * @module Builds a vendor adapter from a gateway's connection through the vendor registry
 * (src/adapters/registry.ts): TLS trust from `verify_ssl` / `ca_pem` / `fingerprint_sha256`, the SSRF guard on
 * every connection (`guardedLookup`, plus a re-check of the URL's host), capability checks, and the connection
 * test behind `/gateways/test` (docs/adr/0090-gateways-and-adapters.md, docs/adr/0111-vendor-registry.md).
 */
import type { TlsTrust } from '../adapters/http.ts';
import {
  type AdapterTuning,
  type Capability,
  type ClosableAdapter,
  type Credentials,
  type VendorDescriptor,
  unavailableReason,
} from '../adapters/registry.ts';
import { presentedCertificate, type PresentedCertificate } from '../adapters/tls-peek.ts';
import { AdapterError } from '../adapters/types.ts';
import { findVendor, listVendors } from '../adapters/vendors.ts';
import { CapabilityError, DomainError, ValidationError } from '../errors.ts';
import { checkGatewayHost, guardedLookup, type HostAllowList } from '../net/ssrf.ts';

export type { AdapterTuning };

/** What an adapter needs to reach one gateway; `credentials` are plaintext and live only in memory. */
export interface GatewayConnection {
  /** The saved gateway's id (shares one circuit breaker across adapters); absent for an unsaved test. */
  id?: string;
  vendor: string;
  url: string;
  credentials: Credentials;
  verifySsl: boolean;
  caPem: string | null;
  fingerprintSha256: string | null;
}

interface AdapterSettings {
  allowHosts: HostAllowList;
  tuning?: AdapterTuning;
}

/** The registered vendor of `id`, or a 400 naming `field` that lists the known vendors. */
export function requireVendor(id: unknown, field = 'vendor'): VendorDescriptor {
  const vendor = typeof id === 'string' ? findVendor(id) : undefined;
  if (vendor === undefined) {
    throw new ValidationError(field, `${field} must be one of ${listVendors().map((v) => v.id).join(', ')}`);
  }
  return vendor;
}

/**
 * Refuses an operation the vendor lacks (`PC_ERR_CAPABILITY_UNSUPPORTED`, naming `field` when an input asked
 * for it), so no caller ever answers with empty data instead.
 */
export function requireCapability(vendor: VendorDescriptor, capability: Capability, field?: string): void {
  if (!vendor.capabilities[capability]) {
    throw new CapabilityError(
      `vendor ${vendor.id} (${vendor.name}) does not support ${capability}: ${unavailableReason(vendor, capability) ?? ''}`,
      capability,
      field,
    );
  }
}

/** A pinned fingerprint wins, then a CA bundle, then "do not verify", else the system CAs. */
function tlsTrustOf(
  conn: Pick<GatewayConnection, 'verifySsl' | 'caPem' | 'fingerprintSha256'>,
): TlsTrust {
  if (conn.fingerprintSha256) return { mode: 'fingerprint', sha256: conn.fingerprintSha256 };
  if (conn.caPem) return { mode: 'ca', caPem: conn.caPem };
  if (!conn.verifySsl) return { mode: 'insecure' };
  return { mode: 'system' };
}

export function buildAdapter(conn: GatewayConnection, settings: AdapterSettings): ClosableAdapter {
  return requireVendor(conn.vendor).createAdapter({
    url: conn.url,
    credentials: conn.credentials,
    tls: tlsTrustOf(conn),
    lookup: guardedLookup(settings.allowHosts),
    ...(conn.id ? { gatewayKey: conn.id } : {}),
    ...(settings.tuning ? { tuning: settings.tuning } : {}),
  });
}


interface GatewayTestResult {
  ok: boolean;
  version: string | null;
  api_version: string | null;
  error: { code: string; message: string } | null;
  /** After a TLS failure: the certificate the gateway presented, to pin if the person trusts it. */
  certificate: PresentedCertificate | null;
}

/**
 * Connects and runs the vendor's connection test. Never throws for a device problem: the answer carries the
 * vendor's code (of its error-code family) and a message that never contains a credential. The host is re-checked
 * first (the allow-list may have changed since the gateway was saved, and an address literal never goes
 * through `guardedLookup`).
 */
export async function testGateway(
  conn: GatewayConnection,
  settings: AdapterSettings,
): Promise<GatewayTestResult> {
  const vendor = requireVendor(conn.vendor);
  await checkGatewayHost(conn.url, {
    allowHosts: settings.allowHosts,
    ...(vendor.urlSchemes ? { schemes: vendor.urlSchemes } : {}),
  });
  const adapter = buildAdapter(conn, settings);
  try {
    const version = await vendor.testConnection(adapter);
    return { ok: true, version: version.product, api_version: version.api, error: null, certificate: null };
  } catch (err) {
    if (err instanceof AdapterError || err instanceof DomainError) {
      const certificate =
        err instanceof AdapterError && err.code === vendor.errors.tls
          ? await presentedCertificate(conn.url, { lookup: guardedLookup(settings.allowHosts) })
          : null;
      return { ok: false, version: null, api_version: null, error: { code: err.code, message: err.message }, certificate };
    }
    throw err;
  } finally {
    await adapter.close();
  }
}
