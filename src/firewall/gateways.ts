/**
 * @module Gateways: the firewall connections (docs/product.md §1/§2). CRUD with the API key sealed by the keyring
 * (`gateways:<id>:api_key_enc`) and never returned (`hasCredentials`), the URL checked by the SSRF guard on
 * every save, soft delete, site scoping by `site_id`, and every change audited in its transaction
 * (docs/adr/0090-gateways-and-adapters.md).
 */
import type { VendorDescriptor } from '../adapters/registry.ts';
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { normalizeFingerprint } from '../adapters/http.ts';
import { record } from '../audit/record.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { requireSiteIds } from '../identity/sites.ts';
import { paging } from '../core/paging.ts';
import {
  requireBoolean,
  requireIdOrNotFound,
  requireName,
  requireString,
  requireUuid,
  uniquely,
} from '../core/validate.ts';
import { isIp } from '../net/ip.ts';
import { checkGatewayHost, type HostAllowList, type HostResolver } from '../net/ssrf.ts';
import { aadForColumn, ENCRYPTED_COLUMNS } from '../secrets/registry.ts';
import { gateways, knocs } from '../store/schema/access.ts';
import { CREDENTIAL_SHAPES, type CredentialField, type Credentials } from '../adapters/registry.ts';
import { DEFAULT_VENDOR_ID } from '../adapters/vendors.ts';
import { type GatewayConnection, requireVendor } from './adapter.ts';
import {
  credentialsFromInput,
  decodeCredentials,
  encodeCredentials,
  hasCredentialInput,
} from './credentials.ts';

interface GatewayView {
  id: string;
  siteId: string;
  name: string;
  vendor: string;
  url: string;
  verifySsl: boolean;
  caPem: string | null;
  fingerprintSha256: string | null;
  /** The management path the lock-out check uses (docs/firewall.md "Semantic preview of a change"); null: derived. */
  managementSource: string | null;
  managementInterface: string | null;
  /** False only for a gateway restored from a backup whose API key has not been set again. */
  hasCredentials: boolean;
  /** Reachability as the health poll last saw it (null: never polled) and when it last answered. */
  isOnline: boolean | null;
  lastSeenAt: Date | null;
  /** `never` | `ok` | `failed`: the last sync's outcome (src/firewall/sync.ts). */
  syncStatus: string;
  lastSyncAt: Date | null;
  syncErrorCode: string | null;
  syncErrorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type GatewayInput = {
  name?: unknown;
  vendor?: unknown;
  url?: unknown;
  verify_ssl?: unknown;
  ca_pem?: unknown;
  fingerprint_sha256?: unknown;
  management_source?: unknown;
  management_interface?: unknown;
  site_id?: unknown;
  /** Test override only: replaces the host / port of the saved URL. */
  host?: unknown;
  port?: unknown;
} & { [field in CredentialField]?: unknown };

/** Where a gateway may point: the SSRF allow-list (and a resolver, for tests). */
export interface GatewayPolicy {
  allowHosts: HostAllowList;
  resolve?: HostResolver;
}

const registered = ENCRYPTED_COLUMNS.find((entry) => entry.column === gateways.apiKeyEnc);
if (registered === undefined)
  throw new Error('gateways.api_key_enc is missing from the encrypted-column registry');
const API_KEY_COLUMN = registered;

const VIEW = {
  id: gateways.id,
  siteId: gateways.siteId,
  name: gateways.name,
  vendor: gateways.vendor,
  url: gateways.url,
  verifySsl: gateways.verifySsl,
  caPem: gateways.caPem,
  fingerprintSha256: gateways.fingerprintSha256,
  managementSource: gateways.managementSource,
  managementInterface: gateways.managementInterface,
  hasCredentials: sql<boolean>`${gateways.apiKeyEnc} is not null`,
  isOnline: gateways.isOnline,
  lastSeenAt: gateways.lastSeenAt,
  syncStatus: gateways.syncStatus,
  lastSyncAt: gateways.lastSyncAt,
  syncErrorCode: gateways.syncErrorCode,
  syncErrorMessage: gateways.syncErrorMessage,
  createdAt: gateways.createdAt,
  updatedAt: gateways.updatedAt,
};

const toView = (row: GatewayView): GatewayView => ({ ...row, hasCredentials: Boolean(row.hasCredentials) });

/** Seals a connection's credentials in the vendor's storage form (src/firewall/credentials.ts). */
function sealCredentials(ctx: ServiceContext, id: string, conn: Pick<GatewayConnection, 'vendor' | 'credentials'>): string {
  return ctx.keyring.seal(
    encodeCredentials(requireVendor(conn.vendor), conn.credentials),
    aadForColumn(API_KEY_COLUMN, id),
  );
}

function caPemOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  const pem = requireString('ca_pem', value, { max: 64 * 1024 });
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ValidationError('ca_pem', 'ca_pem must be PEM text containing at least one CERTIFICATE block');
  }
  return pem;
}

function fingerprintOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  try {
    return normalizeFingerprint(requireString('fingerprint_sha256', value, { max: 200 }));
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError('fingerprint_sha256', (err as Error).message);
  }
}

/** Validates the URL (scheme, no credentials, SSRF guard incl. DNS) and returns it as given, trimmed. */
export async function checkGatewayUrl(
  value: unknown,
  policy: GatewayPolicy,
  field = 'url',
  vendor?: VendorDescriptor,
): Promise<string> {
  const url = requireString(field, value, { max: 2048 }).trim();
  await checkGatewayHost(url, {
    allowHosts: policy.allowHosts,
    field,
    ...(vendor?.urlSchemes ? { schemes: vendor.urlSchemes } : {}),
    ...(policy.resolve ? { resolve: policy.resolve } : {}),
  });
  return url;
}

/** A full, unsaved connection from a request body (the `/gateways/test` route). */
export async function connectionFromInput(
  input: GatewayInput,
  policy: GatewayPolicy,
): Promise<GatewayConnection> {
  const vendor = requireVendor(input.vendor ?? DEFAULT_VENDOR_ID);
  return {
    vendor: vendor.id,
    url: await checkGatewayUrl(input.url, policy, 'url', vendor),
    credentials: credentialsFromInput(vendor, input),
    verifySsl: input.verify_ssl === undefined ? true : requireBoolean('verify_ssl', input.verify_ssl),
    caPem: caPemOf(input.ca_pem),
    fingerprintSha256: fingerprintOf(input.fingerprint_sha256),
  };
}

/** The management path fields present in `input` (null clears one; an address must be an IP literal). */
function managementOf(input: GatewayInput): { managementSource?: string | null; managementInterface?: string | null } {
  const out: { managementSource?: string | null; managementInterface?: string | null } = {};
  if (input.management_source !== undefined) {
    out.managementSource =
      input.management_source === null ? null : requireString('management_source', input.management_source, { max: 64 });
    if (out.managementSource !== null && !isIp(out.managementSource)) {
      throw new ValidationError('management_source', 'management_source must be an IPv4 or IPv6 address');
    }
  }
  if (input.management_interface !== undefined) {
    out.managementInterface =
      input.management_interface === null
        ? null
        : requireString('management_interface', input.management_interface, {
            max: 64,
            pattern: /^[A-Za-z0-9_.-]+$/,
            hint: 'must be an interface name (letters, digits, _ . -)',
          });
  }
  return out;
}

const live = (ctx: ServiceContext, id: string): SQL =>
  and(eq(gateways.orgId, ctx.orgId), eq(gateways.id, id), isNull(gateways.deletedAt)) as SQL;

export async function createGateway(
  ctx: ServiceContext,
  input: GatewayInput,
  policy: GatewayPolicy,
): Promise<GatewayView> {
  const name = requireName('name', input.name);
  const conn = await connectionFromInput(input, policy);
  const siteId = requireUuid('site_id', input.site_id);
  await requireSiteIds(ctx, 'site_id', [siteId]).catch((err: unknown) => {
    // requireSiteIds names the list entry (`site_id.0`); here the input is a single id.
    throw err instanceof ValidationError ? new ValidationError('site_id', err.message) : err;
  });
  const id = randomUUID();
  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `a gateway named ${JSON.stringify(name)} already exists`, () =>
      tx.db
        .insert(gateways)
        .values({
          id,
          orgId: tx.orgId,
          siteId,
          name,
          vendor: conn.vendor,
          url: conn.url,
          apiKeyEnc: sealCredentials(tx, id, conn),
          verifySsl: conn.verifySsl,
          caPem: conn.caPem,
          fingerprintSha256: conn.fingerprintSha256,
          ...managementOf(input),
        })
        .returning(VIEW),
    );
    const view = toView(row as GatewayView);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'gateway.create',
      targetType: 'gateway',
      targetId: id,
      siteId: view.siteId,
      after: view,
    });
    return view;
  });
}

export async function getGateway(ctx: ServiceContext, id: string): Promise<GatewayView> {
  requireIdOrNotFound('gateway', id);
  const [row] = await ctx.db.select(VIEW).from(gateways).where(live(ctx, id)).limit(1);
  if (!row) throw new NotFoundError('gateway', id);
  return toView(row);
}

export async function listGateways(
  ctx: ServiceContext,
  options: { scope: 'all' | string[]; siteId?: string; limit?: number; offset?: number },
): Promise<GatewayView[]> {
  if (options.scope !== 'all' && options.scope.length === 0) return [];
  const conditions: SQL[] = [eq(gateways.orgId, ctx.orgId), isNull(gateways.deletedAt)];
  if (options.scope !== 'all') conditions.push(inArray(gateways.siteId, options.scope));
  if (options.siteId) conditions.push(eq(gateways.siteId, options.siteId));
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select(VIEW)
    .from(gateways)
    .where(and(...conditions))
    .orderBy(asc(gateways.name))
    .limit(limit)
    .offset(offset);
  return rows.map(toView);
}

/**
 * A saved gateway's connection with its decrypted credentials; `credentials` is null for a gateway restored
 * from a backup, which has none until they are set.
 */
async function savedConnection(
  ctx: ServiceContext,
  id: string,
): Promise<Omit<GatewayConnection, 'credentials'> & { name: string; credentials: Credentials | null }> {
  requireIdOrNotFound('gateway', id);
  const [row] = await ctx.db.select().from(gateways).where(live(ctx, id)).limit(1);
  if (!row) throw new NotFoundError('gateway', id);
  const vendor = requireVendor(row.vendor);
  return {
    id: row.id,
    name: row.name,
    vendor: vendor.id,
    url: row.url,
    credentials:
      row.apiKeyEnc === null
        ? null
        : decodeCredentials(vendor, ctx.keyring.open(row.apiKeyEnc, aadForColumn(API_KEY_COLUMN, row.id))),
    verifySsl: row.verifySsl,
    caPem: row.caPem,
    fingerprintSha256: row.fingerprintSha256,
  };
}

/** The decrypted connection of a saved gateway (for adapters; never for a response). */
export async function gatewayConnection(ctx: ServiceContext, id: string): Promise<GatewayConnection> {
  const { name, credentials, ...conn } = await savedConnection(ctx, id);
  if (credentials === null) {
    const field = CREDENTIAL_SHAPES[requireVendor(conn.vendor).credentials][0] ?? 'api_key';
    throw new ValidationError(field, `gateway ${name} has no credentials (restored from a backup); set them first`);
  }
  return { ...conn, credentials };
}

/**
 * `url` with the override's `host` and / or `port` (the `/{id}/test` body), checked by the SSRF guard like a
 * saved URL, the failing field named. The stored credentials go to that host: the caller already holds
 * `firewall.manage_rules` on the gateway's site, which may change the saved URL too (ADR 0177).
 */
async function withHostAndPort(
  url: string,
  override: GatewayInput,
  policy: GatewayPolicy,
  vendor: VendorDescriptor,
): Promise<string> {
  if (override.host === undefined && override.port === undefined) return url;
  const target = new URL(url);
  if (override.host !== undefined) {
    const host = requireString('host', override.host, { max: 253 }).trim().toLowerCase();
    target.hostname = host;
    // The URL setter ignores what is not a host name; so a host that did not take is refused, not dropped.
    if (target.hostname !== host || host === '') throw new ValidationError('host', 'host must be a host name or an IP address');
  }
  if (override.port !== undefined) {
    const port = override.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new ValidationError('port', 'port must be an integer from 1 to 65535');
    }
    target.port = String(port);
  }
  return checkGatewayUrl(target.toString(), policy, override.host !== undefined ? 'host' : 'port', vendor);
}

/** A saved connection with the fields of `override` (the `/{id}/test` body) applied, validated like a save. */
export async function connectionWithOverride(
  ctx: ServiceContext,
  id: string,
  override: GatewayInput,
  policy: GatewayPolicy,
): Promise<GatewayConnection> {
  const saved = await gatewayConnection(ctx, id);
  const vendor = requireVendor(override.vendor ?? saved.vendor);
  const url = override.url !== undefined ? await checkGatewayUrl(override.url, policy, 'url', vendor) : saved.url;
  return {
    ...saved,
    vendor: vendor.id,
    url: await withHostAndPort(url, override, policy, vendor),
    ...(override.vendor !== undefined || hasCredentialInput(override)
      ? { credentials: credentialsFromInput(vendor, override, saved.credentials) }
      : {}),
    ...(override.verify_ssl !== undefined
      ? { verifySsl: requireBoolean('verify_ssl', override.verify_ssl) }
      : {}),
    ...(override.ca_pem !== undefined ? { caPem: caPemOf(override.ca_pem) } : {}),
    ...(override.fingerprint_sha256 !== undefined
      ? { fingerprintSha256: fingerprintOf(override.fingerprint_sha256) }
      : {}),
  };
}

export async function updateGateway(
  ctx: ServiceContext,
  id: string,
  input: GatewayInput,
  policy: GatewayPolicy,
): Promise<GatewayView> {
  const before = await getGateway(ctx, id);
  // The stored id, not the request's spelling of it: it is the key's associated data, fixed for good.
  const gatewayId = before.id;
  const set: Partial<typeof gateways.$inferInsert> = {};
  if (input.name !== undefined) set.name = requireName('name', input.name);
  if (input.url !== undefined) {
    set.url = await checkGatewayUrl(input.url, policy, 'url', requireVendor(input.vendor ?? before.vendor));
  }
  const credentialsChanged = hasCredentialInput(input);
  if (input.vendor !== undefined || credentialsChanged) {
    // A new vendor may take another credential shape: the saved fields fill in only what it shares.
    const saved = await savedConnection(ctx, gatewayId);
    const vendor = requireVendor(input.vendor ?? saved.vendor);
    set.vendor = vendor.id;
    set.apiKeyEnc = sealCredentials(ctx, gatewayId, {
      vendor: vendor.id,
      credentials: credentialsFromInput(vendor, input, saved.credentials ?? undefined),
    });
  }
  if (input.verify_ssl !== undefined) set.verifySsl = requireBoolean('verify_ssl', input.verify_ssl);
  if (input.ca_pem !== undefined) set.caPem = caPemOf(input.ca_pem);
  if (input.fingerprint_sha256 !== undefined) set.fingerprintSha256 = fingerprintOf(input.fingerprint_sha256);
  Object.assign(set, managementOf(input));
  if (input.site_id !== undefined) {
    throw new ValidationError('site_id', 'a gateway cannot move to another site; create a new one');
  }
  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `a gateway named ${JSON.stringify(set.name)} already exists`, () =>
      tx.db
        .update(gateways)
        .set({ ...set, updatedAt: tx.now() })
        .where(live(tx, gatewayId))
        .returning(VIEW),
    );
    if (!row) throw new NotFoundError('gateway', gatewayId);
    const view = toView(row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'gateway.update',
      targetType: 'gateway',
      targetId: gatewayId,
      siteId: view.siteId,
      before,
      after: { ...view, ...(credentialsChanged ? { api_key_changed: true } : {}) },
    });
    return view;
  });
}

/** Soft delete; refused (409) while a knoc still uses the gateway. */
export async function deleteGateway(ctx: ServiceContext, id: string): Promise<void> {
  const before = await getGateway(ctx, id);
  await inTransaction(ctx, async (tx) => {
    const using = await tx.db
      .select({ name: knocs.name })
      .from(knocs)
      .where(and(eq(knocs.gatewayId, id), isNull(knocs.deletedAt)))
      .limit(5);
    if (using.length > 0) {
      throw new ConflictError(
        `gateway ${before.name} is used by knoc(s) ${using.map((k) => k.name).join(', ')}; delete or move them first`,
      );
    }
    await tx.db.update(gateways).set({ deletedAt: tx.now() }).where(live(tx, id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'gateway.delete',
      targetType: 'gateway',
      targetId: before.id,
      siteId: before.siteId,
      before,
    });
  });
}

export interface GatewaySummary {
  total: number;
  /** Reachability as the health poll last saw it (`unknown`: never polled). */
  online: number;
  offline: number;
  unknown: number;
  sync: { never: number; ok: number; failed: number };
}

/** Counts of the live gateways in scope by reachability and sync state (`GET /gateways/summary`). */
export async function gatewaySummary(
  ctx: ServiceContext,
  options: { scope: 'all' | readonly string[]; siteId?: string },
): Promise<GatewaySummary> {
  const summary: GatewaySummary = { total: 0, online: 0, offline: 0, unknown: 0, sync: { never: 0, ok: 0, failed: 0 } };
  if (options.scope !== 'all' && options.scope.length === 0) return summary;
  const conditions: SQL[] = [eq(gateways.orgId, ctx.orgId), isNull(gateways.deletedAt)];
  if (options.scope !== 'all') conditions.push(inArray(gateways.siteId, [...options.scope]));
  if (options.siteId) conditions.push(eq(gateways.siteId, options.siteId));
  const rows = await ctx.db
    .select({ isOnline: gateways.isOnline, syncStatus: gateways.syncStatus, n: sql<number>`count(*)::int` })
    .from(gateways)
    .where(and(...conditions))
    .groupBy(gateways.isOnline, gateways.syncStatus);
  for (const row of rows) {
    summary.total += row.n;
    if (row.isOnline === true) summary.online += row.n;
    else if (row.isOnline === false) summary.offline += row.n;
    else summary.unknown += row.n;
    const status = row.syncStatus === 'ok' || row.syncStatus === 'failed' ? row.syncStatus : 'never';
    summary.sync[status] += row.n;
  }
  return summary;
}
