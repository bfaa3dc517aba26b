/**
 * @module Backup and restore of the firewall module as one portable JSON document (issue 9 item 10,
 * docs/firewall.md, ADR 0122). Contents, as FreeSDN's backup scope: gateways (our devices and gateway
 * connections in one) **without credentials**, normalized rules, NAT rules and VPN tunnels — live rows only,
 * with their ids and times — and the sites those gateways belong to. Not included: IDS alerts, traffic logs,
 * sync snapshots, pending changes, API keys.
 *
 * The `orchestration` section carries the canonical state (role maps, VLAN templates, VLANs, DHCP scopes and
 * reservations, DNS records; src/orchestration/canonical/backup.ts) and the sites it belongs to join `sites`.
 *
 * Restore checks the whole document first (format and version, every field with the same checks as the API,
 * references between objects, ids not already used), then writes in dependency order — sites, gateways, then
 * rules / NAT / VPN — in one transaction, so it is all or nothing. Restored gateways have no API key
 * (`has_credentials: false`) until one is set. A backup of a restored install equals the original backup
 * (apart from `exported_at`).
 */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { record } from '../audit/record.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { isUuid, requireBoolean } from '../core/validate.ts';
import { gateways } from '../store/schema/access.ts';
import { firewallNatRules, firewallRules, firewallVpnTunnels } from '../store/schema/firewall.ts';
import { sites } from '../store/schema/tenancy.ts';
import {
  type CanonicalBackup,
  canonicalCounts,
  canonicalSiteIds,
  exportCanonical,
  restoreCanonical,
} from '../orchestration/canonical/backup.ts';
import { requireVendor } from './adapter.ts';
import { checkGatewayUrl, type GatewayPolicy } from './gateways.ts';
import { NAT_RULES } from './nat.ts';
import type { ObjectKind } from './objects.ts';
import { RULES } from './rules.ts';
import { VPN_TUNNELS } from './vpn.ts';

export const BACKUP_FORMAT = 'portcullis.firewall-backup';
export const BACKUP_FORMAT_VERSION = 1;

type Json = Record<string, unknown>;

interface FirewallBackup {
  format: typeof BACKUP_FORMAT;
  format_version: typeof BACKUP_FORMAT_VERSION;
  exported_at: string;
  sites: Json[];
  gateways: Json[];
  firewall_rules: Json[];
  nat_rules: Json[];
  vpn_tunnels: Json[];
  orchestration: CanonicalBackup;
}

/** The sections holding the module's own objects, in restore order after sites and gateways. */
const SECTIONS = [
  { name: 'firewall_rules', table: firewallRules, kind: RULES },
  { name: 'nat_rules', table: firewallNatRules, kind: NAT_RULES },
  { name: 'vpn_tunnels', table: firewallVpnTunnels, kind: VPN_TUNNELS },
] as const;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A row as backup JSON: snake_case keys, ISO times, without the org and soft-delete columns. */
function toJson(row: Json, omit: readonly string[] = []): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'orgId' || key === 'deletedAt' || omit.includes(key)) continue;
    out[snake(key)] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

const GATEWAY_COLUMNS = {
  id: gateways.id,
  siteId: gateways.siteId,
  name: gateways.name,
  vendor: gateways.vendor,
  url: gateways.url,
  verifySsl: gateways.verifySsl,
  caPem: gateways.caPem,
  fingerprintSha256: gateways.fingerprintSha256,
  createdAt: gateways.createdAt,
  updatedAt: gateways.updatedAt,
};

export async function exportBackup(ctx: ServiceContext): Promise<FirewallBackup> {
  const gatewayRows = await ctx.db
    .select(GATEWAY_COLUMNS)
    .from(gateways)
    .where(and(eq(gateways.orgId, ctx.orgId), isNull(gateways.deletedAt)))
    .orderBy(asc(gateways.id));
  const canonical = await exportCanonical(ctx);
  const siteIds = [...new Set([...gatewayRows.map((g) => g.siteId), ...canonicalSiteIds(canonical)])];
  const siteRows =
    siteIds.length === 0
      ? []
      : await ctx.db
          .select({ id: sites.id, name: sites.name, description: sites.description })
          .from(sites)
          .where(and(eq(sites.orgId, ctx.orgId), inArray(sites.id, siteIds)))
          .orderBy(asc(sites.id));
  const backup: FirewallBackup = {
    format: BACKUP_FORMAT,
    format_version: BACKUP_FORMAT_VERSION,
    exported_at: ctx.now().toISOString(),
    sites: siteRows.map((s) => toJson(s)),
    gateways: gatewayRows.map((g) => toJson(g)),
    firewall_rules: [],
    nat_rules: [],
    vpn_tunnels: [],
    orchestration: canonical,
  };
  for (const section of SECTIONS) {
    const t = section.table;
    const rows = (await ctx.db
      .select()
      .from(t)
      .where(and(eq(t.orgId, ctx.orgId), isNull(t.deletedAt)))
      .orderBy(asc(t.id))) as unknown as Json[];
    backup[section.name] = rows.map((row) => toJson(row));
  }
  await record(ctx.db, {
    orgId: ctx.orgId,
    actor: ctx.actor,
    action: 'firewall_backup.export',
    targetType: 'firewall_backup',
    after: counts(backup),
  });
  return backup;
}

function counts(backup: FirewallBackup) {
  return {
    sites: backup.sites.length,
    gateways: backup.gateways.length,
    firewall_rules: backup.firewall_rules.length,
    nat_rules: backup.nat_rules.length,
    vpn_tunnels: backup.vpn_tunnels.length,
    orchestration: canonicalCounts(backup.orchestration),
  };
}

// ---- restore ----------------------------------------------------------------------------------------------

function list(doc: Json, name: string): Json[] {
  const value = doc[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError(name, `${name} must be a list`);
  if (value.length > 100_000) throw new ValidationError(name, `${name} has too many entries`);
  value.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ValidationError(`${name}.${i}`, `${name}.${i} must be an object`);
    }
  });
  return value as Json[];
}

function uuidAt(field: string, value: unknown): string {
  if (!isUuid(value)) throw new ValidationError(field, `${field} must be a UUID`);
  return value.toLowerCase();
}

function dateAt(field: string, value: unknown, nullable = false): Date | null {
  if (value === null && nullable) return null;
  const date = typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw new ValidationError(field, `${field} must be a date-time`);
  return date;
}

function textAt(field: string, value: unknown, max: number, nullable = false): string | null {
  if (value === null && nullable) return null;
  if (typeof value !== 'string' || value.length > max || /\p{Cc}/u.test(value.replace(/\r?\n/g, ''))) {
    throw new ValidationError(field, `${field} must be text of at most ${max} characters`);
  }
  return value;
}

function intAt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(field, `${field} must be a non-negative integer`);
  }
  return value;
}

/** Columns a backup carries that the API never writes: copied with a type check. */
const READ_ONLY: Record<string, (field: string, value: unknown) => unknown> = {
  hit_count: intAt,
  bytes_in: intAt,
  bytes_out: intAt,
  last_synced_at: (f, v) => dateAt(f, v, true),
  device_deleted_at: (f, v) => dateAt(f, v, true),
  status_changed_at: (f, v) => dateAt(f, v, true),
};

function objectRow<Row>(kind: ObjectKind<Row>, section: string, index: number, item: Json, devices: Map<string, string>) {
  const at = (key: string) => `${section}.${index}.${key}`;
  const id = uuidAt(at('id'), item.id);
  const deviceId = uuidAt(at('device_id'), item.device_id);
  const siteId = devices.get(deviceId);
  if (siteId === undefined) throw new ValidationError(at('device_id'), `${at('device_id')}: no gateway ${deviceId} in the backup`);
  if (item.site_id !== siteId) throw new ValidationError(at('site_id'), `${at('site_id')} must be the site of its gateway`);
  const row: Json = { id, deviceId, siteId };
  for (const [field, def] of Object.entries(kind.fields)) {
    if (item[field] !== undefined) row[def.key] = def.parse(item[field], at(field));
  }
  for (const required of kind.required) {
    if (item[required] === undefined) throw new ValidationError(at(required), `${at(required)} is required`);
  }
  for (const [field, check] of Object.entries(READ_ONLY)) {
    if (item[field] !== undefined) row[camel(field)] = check(at(field), item[field]);
  }
  row.createdAt = dateAt(at('created_at'), item.created_at);
  row.updatedAt = dateAt(at('updated_at'), item.updated_at);
  try {
    kind.check?.(row as Row);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(at(err.field), `${section}.${index}: ${err.message}`);
    throw err;
  }
  return row;
}

interface RestoreResult {
  sites_created: number;
  sites_reused: number;
  gateways: number;
  firewall_rules: number;
  nat_rules: number;
  vpn_tunnels: number;
  orchestration: Record<string, number>;
}

/** Restores a backup into the context's org; all or nothing. */
export async function restoreBackup(ctx: ServiceContext, doc: unknown, policy: GatewayPolicy): Promise<RestoreResult> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ValidationError('body', 'the backup must be a JSON object');
  }
  const backup = doc as Json;
  if (backup.format !== BACKUP_FORMAT) {
    throw new ValidationError('format', `format must be ${JSON.stringify(BACKUP_FORMAT)}`);
  }
  if (backup.format_version !== BACKUP_FORMAT_VERSION) {
    throw new ValidationError(
      'format_version',
      `format_version ${JSON.stringify(backup.format_version)} is not supported (this version reads ${BACKUP_FORMAT_VERSION})`,
    );
  }

  const siteRows = list(backup, 'sites').map((item, i) => ({
    id: uuidAt(`sites.${i}.id`, item.id),
    name: textAt(`sites.${i}.name`, item.name, 100) as string,
    description: (textAt(`sites.${i}.description`, item.description ?? '', 1000) as string) ?? '',
  }));
  const siteIds = new Set(siteRows.map((s) => s.id));

  const gatewayRows: Array<Omit<typeof gateways.$inferInsert, 'orgId'> & { id: string; name: string }> = [];
  const devices = new Map<string, string>();
  for (const [i, item] of list(backup, 'gateways').entries()) {
    const at = (key: string) => `gateways.${i}.${key}`;
    const row = {
      id: uuidAt(at('id'), item.id),
      siteId: uuidAt(at('site_id'), item.site_id),
      name: textAt(at('name'), item.name, 100) as string,
      vendor: requireVendor(item.vendor, at('vendor')).id,
      url: await checkGatewayUrl(item.url, policy, at('url'), requireVendor(item.vendor, at('vendor'))),
      verifySsl: requireBoolean(at('verify_ssl'), item.verify_ssl),
      caPem: textAt(at('ca_pem'), item.ca_pem ?? null, 65_536, true),
      fingerprintSha256: textAt(at('fingerprint_sha256'), item.fingerprint_sha256 ?? null, 200, true),
      createdAt: dateAt(at('created_at'), item.created_at) as Date,
      updatedAt: dateAt(at('updated_at'), item.updated_at) as Date,
    };
    if (row.name.trim() === '') throw new ValidationError(at('name'), `${at('name')} must not be blank`);
    if (!siteIds.has(row.siteId)) throw new ValidationError(at('site_id'), `${at('site_id')}: no site ${row.siteId} in the backup`);
    if (devices.has(row.id)) throw new ValidationError(at('id'), `${at('id')}: gateway ${row.id} appears twice`);
    devices.set(row.id, row.siteId);
    gatewayRows.push(row);
  }

  const sectionRows = SECTIONS.map((section) => {
    const seen = new Set<string>();
    return list(backup, section.name).map((item, i) => {
      const row = objectRow(section.kind as ObjectKind<unknown>, section.name, i, item, devices);
      if (seen.has(row.id as string)) throw new ValidationError(`${section.name}.${i}.id`, `${section.name}.${i}.id appears twice`);
      seen.add(row.id as string);
      return row;
    });
  });

  return inTransaction(ctx, async (tx) => {
    // Ids must be new (in any org, deleted rows included): a restore never overwrites.
    const taken = async (table: PgTable & { id: typeof gateways.id }, ids: string[], what: string) => {
      if (ids.length === 0) return;
      const [hit] = await tx.db.select({ id: table.id }).from(table).where(inArray(table.id, ids)).limit(1);
      if (hit) throw new ConflictError(`${what} ${hit.id} already exists; restore into an install without it`);
    };
    await taken(gateways, gatewayRows.map((g) => g.id), 'gateway');
    for (const [i, section] of SECTIONS.entries()) {
      await taken(section.table as never, (sectionRows[i] ?? []).map((r) => r.id as string), section.kind.resource);
    }

    let created = 0;
    const existing = new Map(
      (siteRows.length === 0
        ? []
        : await tx.db
            .select({ id: sites.id, orgId: sites.orgId, deletedAt: sites.deletedAt })
            .from(sites)
            .where(inArray(sites.id, siteRows.map((s) => s.id)))
      ).map((s) => [s.id, s]),
    );
    for (const site of siteRows) {
      const found = existing.get(site.id);
      if (found && (found.orgId !== tx.orgId || found.deletedAt !== null)) {
        throw new ConflictError(`site ${site.id} exists but is deleted or belongs to another organisation`);
      }
      if (found) continue;
      await tx.db.insert(sites).values({ ...site, orgId: tx.orgId }).catch((err: unknown) => {
        throw new ConflictError(`site ${JSON.stringify(site.name)} cannot be created: ${(err as Error).message.split('\n')[0]}`);
      });
      created++;
    }
    if (gatewayRows.length > 0) {
      await tx.db.insert(gateways).values(gatewayRows.map((g) => ({ ...g, orgId: tx.orgId, apiKeyEnc: null })));
    }
    for (const [i, section] of SECTIONS.entries()) {
      const rows = sectionRows[i] ?? [];
      for (let start = 0; start < rows.length; start += 500) {
        await tx.db
          .insert(section.table)
          .values(rows.slice(start, start + 500).map((r) => ({ ...r, orgId: tx.orgId })) as never);
      }
    }
    // Through the orchestration services on this transaction: every canonical check applies to restored rows.
    const orchestration = await restoreCanonical(tx, backup.orchestration);
    const result: RestoreResult = {
      sites_created: created,
      sites_reused: siteRows.length - created,
      gateways: gatewayRows.length,
      firewall_rules: sectionRows[0]?.length ?? 0,
      nat_rules: sectionRows[1]?.length ?? 0,
      vpn_tunnels: sectionRows[2]?.length ?? 0,
      orchestration,
    };
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'firewall_backup.restore',
      targetType: 'firewall_backup',
      after: result,
    });
    return result;
  });
}
