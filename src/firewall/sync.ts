/**
 * @module Gateway sync (issue 9 item 2; docs/reference/freesdn-firewall-module.md §3, §10.1, §23): pulls a
 * gateway's live rules, NAT, VPN status, interfaces and aliases into the normalized tables, and its firewall log
 * into `firewall_logs`. Vendor-neutral: it reads the gateway's live view (src/adapters/live.ts), skipping what
 * the vendor's capability flags say it cannot serve.
 *
 * - Rows are matched by the vendor's id (`vendor_*_id`, the interface id, the alias name), so a second sync
 *   updates rather than duplicates; inserts go through the partial unique indexes (`on conflict do nothing`), so
 *   even two nodes syncing one gateway at once cannot duplicate a row.
 * - A row the device no longer has gets `device_deleted_at`; it is cleared if the object comes back. A row
 *   deleted here (`deleted_at`) is left alone: the sync does not resurrect it.
 * - A normal sync writes only rows whose device fields changed (and stamps `last_synced_at` on the others in one
 *   statement); `full_sync` rewrites every row (repairing anything the comparison cannot see).
 * - The outcome is stored on the gateway (`sync_status`, `last_sync_at`, `sync_error_*`); the transition events
 *   of src/firewall/health.ts are emitted only when the status changes.
 * - At most one sync per gateway runs in this process at a time (`SyncBusyError` otherwise); across nodes the
 *   job runner's per-gateway singleton (src/jobs) keeps background syncs apart.
 */
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type {
  LiveAlias,
  LiveGateway,
  LiveInterface,
  LiveLogEntry,
  LiveNat,
  LiveRule,
  LiveVpn,
} from '../adapters/live.ts';
import type { VendorDescriptor } from '../adapters/registry.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { ConflictError, DeviceError, NotFoundError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { gateways } from '../store/schema/access.ts';
import {
  firewallAliases,
  firewallInterfaces,
  firewallLogs,
  firewallNatRules,
  firewallRules,
  firewallVpnTunnels,
} from '../store/schema/firewall.ts';
import { recordSyncOutcome } from './health.ts';
import { idsAlertInput, recordIdsAlerts } from './ids.ts';
import type { Device } from './objects.ts';
import { readSettings } from './settings.ts';

/** Log lines read per ingestion (the live read's upper bound). */
export const LOG_WINDOW = 1_000;

/** IDS alerts read per sync (newest first on the device; stored once each by their vendor id). */
const IDS_WINDOW = 500;

export interface AreaCounts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Device objects that could not be stored (no vendor id, or a kind the tables do not hold). */
  skipped: number;
}

export interface SyncReport {
  gateway_id: string;
  full_sync: boolean;
  rules: AreaCounts | null;
  nat: AreaCounts | null;
  vpn: AreaCounts | null;
  interfaces: AreaCounts | null;
  aliases: AreaCounts | null;
  logs: LogIngestReport | null;
  duration_ms: number;
}

export interface LogIngestReport {
  ingested: number;
  /** Lines the vendor's parser could not read. */
  unreadable: number;
  /** Entries already stored, older than the retention, or blocked entries while `log_blocked` is off. */
  ignored: number;
}

/** A sync of this gateway is already running in this process. */
export class SyncBusyError extends ConflictError {
  constructor(gatewayName: string) {
    super(`a sync of gateway ${gatewayName} is already running; try again when it has finished`);
  }
}

/** The gateway's vendor and live view (the caller owns the adapter's lifetime). */
export interface SyncSource {
  vendor: VendorDescriptor;
  live: LiveGateway;
}

const running = new Set<string>();

async function loadDevice(ctx: ServiceContext, gatewayId: string): Promise<Device> {
  const [row] = await ctx.db
    .select({ id: gateways.id, siteId: gateways.siteId, name: gateways.name })
    .from(gateways)
    .where(and(eq(gateways.orgId, ctx.orgId), eq(gateways.id, gatewayId), isNull(gateways.deletedAt)))
    .limit(1);
  if (!row) throw new NotFoundError('gateway', gatewayId);
  return row;
}

/**
 * Syncs one gateway through the live view `open` gives (called once the gateway is known not to be syncing);
 * records the outcome (and its transition event). A device failure — opening the adapter or any read — is
 * recorded as a failed sync and rethrown.
 */
export async function syncGateway(
  ctx: ServiceContext,
  bus: EventBus | null,
  gatewayId: string,
  open: () => Promise<SyncSource>,
  options: { fullSync: boolean },
): Promise<SyncReport> {
  const device = await loadDevice(ctx, gatewayId);
  if (running.has(device.id)) throw new SyncBusyError(device.name);
  running.add(device.id);
  const started = Date.now();
  try {
    const failed = async (err: unknown): Promise<never> => {
      if (err instanceof DeviceError) {
        await recordSyncOutcome(ctx, bus, device.id, { ok: false, code: err.vendorCode, message: err.message });
      }
      throw err;
    };
    const source = await open().catch(failed);
    const can = (flag: 'read.rules' | 'read.nat' | 'read.vpn' | 'read.interfaces' | 'read.aliases' | 'read.logs') =>
      source.vendor.capabilities[flag] === true;
    const { live } = source;
    const [rules, nat, vpn, interfaces, aliases] = await Promise.all([
      can('read.rules') ? live.firewallRules().then((r) => r.items) : null,
      can('read.nat') ? live.natRules() : null,
      can('read.vpn') ? live.vpn() : null,
      can('read.interfaces') ? live.interfaces().then((r) => r.items) : null,
      can('read.aliases') ? live.aliases().then((r) => r.items) : null,
    ]).catch(failed);
    const full = options.fullSync;
    const counts = await inTransaction(ctx, async (tx) => ({
      rules: rules === null ? null : await syncRules(tx, device, rules, full),
      nat: nat === null ? null : await syncNat(tx, device, nat, full),
      vpn: vpn === null ? null : await syncVpn(tx, device, vpn, full),
      interfaces: interfaces === null ? null : await syncInterfaces(tx, device, interfaces, full),
      aliases: aliases === null ? null : await syncAliases(tx, device, aliases, full),
    }));
    const logs = can('read.logs')
      ? await ingestParsedLogs(ctx, device, await live.firewallLog(LOG_WINDOW).catch(failed))
      : null;
    // IDS alerts (vendors with `read.ids_alerts`): stored once each in firewall_ids_alerts, served by /ids/alerts.
    if (source.vendor.capabilities['read.ids_alerts'] && live.idsAlerts) {
      const alerts = await live.idsAlerts(IDS_WINDOW).catch(failed);
      const valid = alerts.items.filter((a) => !Number.isNaN(Date.parse(a.occurred_at)));
      await recordIdsAlerts(ctx, device, valid.map(idsAlertInput));
    }
    await recordSyncOutcome(ctx, bus, device.id, { ok: true });
    return { gateway_id: device.id, full_sync: full, ...counts, logs, duration_ms: Date.now() - started };
  } finally {
    running.delete(device.id);
  }
}

// -------------------------------------------------------------------------------------------------------------
// Matching device objects with stored rows

type Values = Record<string, unknown>;

interface StoredRow {
  id: string;
  key: string;
  values: Values;
  deviceDeletedAt: Date | null;
  /** Deleted here: the sync leaves it alone. */
  locallyDeleted: boolean;
}

type AreaTable = PgTable & {
  id: PgColumn;
  deviceId: PgColumn;
  lastSyncedAt: PgColumn;
  deviceDeletedAt: PgColumn;
};

/** JSON with object keys sorted (jsonb does not keep the order the values were written in). */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Values).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/** Same content in the compared fields (those picked from the stored row; the key fields match by lookup). */
function same(stored: Values, incoming: Values): boolean {
  for (const [name, before] of Object.entries(stored)) {
    const value = incoming[name] ?? null;
    if (value !== null && typeof value === 'object') {
      if (canonical(value) !== canonical(before)) return false;
    } else if ((before ?? null) !== value) return false;
  }
  return true;
}

/**
 * Applies the device's objects (`incoming`, by key) to the stored rows of one gateway: inserts the new, updates
 * the changed (all with `full`), stamps the unchanged, marks the missing as deleted on the device.
 */
async function reconcileArea(
  tx: ServiceContext,
  device: Device,
  area: AreaTable,
  stored: StoredRow[],
  incoming: Map<string, Values>,
  skipped: number,
  full: boolean,
): Promise<AreaCounts> {
  const now = tx.now();
  const counts: AreaCounts = { created: 0, updated: 0, unchanged: 0, deleted: 0, skipped };
  const byKey = new Map(stored.map((row) => [row.key, row]));
  const stamp: string[] = [];
  const inserts: Values[] = [];
  for (const [key, values] of incoming) {
    const row = byKey.get(key);
    if (row === undefined) {
      inserts.push({
        ...values,
        orgId: tx.orgId,
        siteId: device.siteId,
        deviceId: device.id,
        lastSyncedAt: now,
      });
    } else if (row.locallyDeleted) {
      counts.unchanged++;
    } else if (full || row.deviceDeletedAt !== null || !same(row.values, values)) {
      await tx.db
        .update(area)
        .set({ ...values, lastSyncedAt: now, deviceDeletedAt: null, updatedAt: now })
        .where(eq(area.id, row.id));
      counts.updated++;
    } else {
      stamp.push(row.id);
      counts.unchanged++;
    }
  }
  if (inserts.length > 0) {
    const created = await tx.db
      .insert(area)
      .values(inserts as never)
      .onConflictDoNothing()
      .returning({ id: area.id });
    counts.created = created.length;
  }
  if (stamp.length > 0) {
    await tx.db
      .update(area)
      .set({ lastSyncedAt: now })
      .where(inArray(area.id, stamp));
  }
  const gone = stored
    .filter((row) => !row.locallyDeleted && row.deviceDeletedAt === null && !incoming.has(row.key))
    .map((row) => row.id);
  if (gone.length > 0) {
    await tx.db
      .update(area)
      .set({ deviceDeletedAt: now, updatedAt: now })
      .where(and(eq(area.deviceId, device.id), inArray(area.id, gone)));
    counts.deleted = gone.length;
  }
  return counts;
}

/**
 * The device objects by key. Objects without a key, and every object after the first with the same key (a
 * device can hand out one id twice, e.g. time-based rule ids of rules created in the same second), are counted as
 * skipped rather than stored under a guessed id.
 */
function keyed<T>(
  items: readonly T[],
  key: (item: T, index: number) => string | null,
  values: (item: T, index: number) => Values,
) {
  const incoming = new Map<string, Values>();
  let skipped = 0;
  items.forEach((item, index) => {
    const k = key(item, index);
    if (k === null || incoming.has(k)) skipped++;
    else incoming.set(k, values(item, index));
  });
  return { incoming, skipped };
}

/** Picks `names` of a stored row, in order, for comparison with the device's values. */
const pick = (row: Values, names: readonly string[]): Values =>
  Object.fromEntries(names.map((name) => [name, row[name]]));

// -------------------------------------------------------------------------------------------------------------
// Areas

const RULE_FIELDS = [
  'sourceAddress',
  'sourcePort',
  'sourceZone',
  'destAddress',
  'destPort',
  'protocol',
  'action',
  'logEnabled',
  'isEnabled',
  'ruleOrder',
  'description',
] as const;

async function syncRules(tx: ServiceContext, device: Device, items: LiveRule[], full: boolean) {
  const t = firewallRules;
  const rows = await tx.db.select().from(t).where(eq(t.deviceId, device.id));
  const stored = rows
    .filter((row) => row.vendorRuleId !== null)
    .map((row) => ({
      id: row.id,
      key: row.vendorRuleId as string,
      values: pick(row, RULE_FIELDS),
      deviceDeletedAt: row.deviceDeletedAt,
      locallyDeleted: row.deletedAt !== null,
    }))
    // A live row wins over a locally deleted one with the same vendor id.
    .sort((a, b) => Number(b.locallyDeleted) - Number(a.locallyDeleted));
  const { incoming, skipped } = keyed(
    items,
    (rule) => rule.vendor_rule_id,
    (rule, index) => ({
      vendorRuleId: rule.vendor_rule_id,
      sourceAddress: rule.source_address || 'any',
      sourcePort: rule.source_port ?? 'any',
      sourceZone: rule.interfaces[0] ?? null,
      destAddress: rule.dest_address || 'any',
      destPort: rule.dest_port ?? 'any',
      protocol: rule.protocol || 'any',
      action: rule.action ?? 'deny',
      logEnabled: rule.log_enabled,
      isEnabled: rule.is_enabled,
      ruleOrder: rule.position ?? index + 1,
      description: rule.description,
    }),
  );
  return reconcileArea(tx, device, t, dedupe(stored), incoming, skipped, full);
}

/** One stored row per key (the last wins: callers sort live rows last). */
function dedupe(rows: StoredRow[]): StoredRow[] {
  return [...new Map(rows.map((row) => [row.key, row])).values()];
}

const NAT_FIELDS = [
  'interface',
  'protocol',
  'sourceAddress',
  'sourcePort',
  'destAddress',
  'destPort',
  'translatedAddress',
  'translatedPort',
  'isEnabled',
  'ruleOrder',
  'description',
] as const;

async function syncNat(tx: ServiceContext, device: Device, nat: LiveNat, full: boolean) {
  const t = firewallNatRules;
  const rows = await tx.db.select().from(t).where(eq(t.deviceId, device.id));
  const stored = rows
    .filter((row) => row.vendorRuleId !== null)
    .map((row) => ({
      id: row.id,
      key: `${row.natType}/${row.vendorRuleId as string}`,
      values: pick(row, NAT_FIELDS),
      deviceDeletedAt: row.deviceDeletedAt,
      locallyDeleted: row.deletedAt !== null,
    }))
    .sort((a, b) => Number(b.locallyDeleted) - Number(a.locallyDeleted));
  // 1:1 (binat) mappings have no place in the NAT table's types: counted as skipped.
  const items = [...nat.port_forwards, ...nat.outbound.mappings];
  const { incoming, skipped } = keyed(
    items,
    (rule) => (rule.vendor_id === null ? null : `${rule.nat_type}/${rule.vendor_id}`),
    (rule, index) => ({
      vendorRuleId: String(rule.vendor_id),
      natType: rule.nat_type,
      interface: rule.interface,
      protocol: rule.protocol ?? 'any',
      sourceAddress: rule.original_address ?? 'any',
      sourcePort: rule.original_port ?? 'any',
      destAddress: rule.destination_address ?? 'any',
      destPort: rule.destination_port ?? 'any',
      translatedAddress: rule.translated_address,
      translatedPort: rule.translated_port,
      isEnabled: rule.is_enabled,
      ruleOrder: index + 1,
      description: rule.description,
    }),
  );
  return reconcileArea(tx, device, t, dedupe(stored), incoming, skipped + nat.one_to_one.length, full);
}

async function syncVpn(tx: ServiceContext, device: Device, vpn: LiveVpn, full: boolean) {
  const t = firewallVpnTunnels;
  const rows = await tx.db.select().from(t).where(eq(t.deviceId, device.id));
  const fields = ['name', 'vpnStatus', 'remoteAddress'] as const;
  const stored = rows
    .filter((row) => row.vendorTunnelId !== null)
    .map((row) => ({
      id: row.id,
      key: `${row.vpnType}/${row.vendorTunnelId as string}`,
      values: pick(row, fields),
      deviceDeletedAt: row.deviceDeletedAt,
      locallyDeleted: row.deletedAt !== null,
    }))
    .sort((a, b) => Number(b.locallyDeleted) - Number(a.locallyDeleted));
  const storedStatus = new Map(stored.map((row) => [row.key, row.values.vpnStatus]));
  const { incoming, skipped } = keyed(
    vpn.tunnels,
    (tunnel, index) => `${tunnel.vpn_type}/${tunnel.role}:${tunnel.name ?? `#${index}`}`,
    (tunnel, index) => {
      const key = `${tunnel.vpn_type}/${tunnel.role}:${tunnel.name ?? `#${index}`}`;
      // The table's statuses are up / down / error; a tunnel whose state the device does not report is not up.
      const vpnStatus = tunnel.status === 'up' ? 'up' : 'down';
      return {
        vendorTunnelId: `${tunnel.role}:${tunnel.name ?? `#${index}`}`,
        vpnType: tunnel.vpn_type,
        name: tunnel.name ?? `${tunnel.vpn_type} ${tunnel.role} ${index + 1}`,
        vpnStatus,
        remoteAddress: tunnel.remote_address,
        ...(storedStatus.get(key) !== vpnStatus ? { statusChangedAt: tx.now() } : {}),
      };
    },
  );
  return reconcileArea(tx, device, t, dedupe(stored), incoming, skipped, full);
}

async function syncInterfaces(tx: ServiceContext, device: Device, items: LiveInterface[], full: boolean) {
  const t = firewallInterfaces;
  const rows = await tx.db.select().from(t).where(eq(t.deviceId, device.id));
  const fields = ['name', 'description', 'addresses', 'status', 'counters'] as const;
  const stored = rows.map((row) => ({
    id: row.id,
    key: row.vendorInterfaceId,
    values: pick(row, fields),
    deviceDeletedAt: row.deviceDeletedAt,
    locallyDeleted: false,
  }));
  const { incoming, skipped } = keyed(
    items,
    (item) => item.id || null,
    (item) => ({
      vendorInterfaceId: item.id,
      name: item.device ?? item.id,
      description: item.description,
      addresses: [item.ipv4, item.ipv6].filter((a): a is string => a !== null && a !== ''),
      status: item.status,
      counters: item.counters,
    }),
  );
  return reconcileArea(tx, device, t, stored, incoming, skipped, full);
}

async function syncAliases(tx: ServiceContext, device: Device, items: LiveAlias[], full: boolean) {
  const t = firewallAliases;
  const rows = await tx.db.select().from(t).where(eq(t.deviceId, device.id));
  const fields = ['aliasType', 'entries', 'description'] as const;
  const stored = rows.map((row) => ({
    id: row.id,
    key: row.name,
    values: pick(row, fields),
    deviceDeletedAt: row.deviceDeletedAt,
    locallyDeleted: false,
  }));
  const { incoming, skipped } = keyed(
    items,
    (alias) => alias.name || null,
    (alias) => ({
      name: alias.name,
      aliasType: alias.type,
      entries: alias.entries.map((entry) => entry.address),
      description: alias.description,
    }),
  );
  return reconcileArea(tx, device, t, stored, incoming, skipped, full);
}

// -------------------------------------------------------------------------------------------------------------
// Log ingestion

/** What identifies a log entry within one second (the log has no ids). */
const fingerprint = (e: {
  action: string;
  sourceIp: string | null;
  sourcePort: number | null;
  destIp: string | null;
  destPort: number | null;
  vendorRuleId: string | null;
  protocol: string | null;
}) => [e.action, e.sourceIp, e.sourcePort, e.destIp, e.destPort, e.vendorRuleId, e.protocol].join('|');

const logRow = (entry: LiveLogEntry) => ({
  loggedAt: new Date(entry.logged_at),
  action: entry.action,
  interface: entry.interface,
  direction: entry.direction,
  ipVersion: entry.ip_version,
  protocol: entry.protocol,
  sourceIp: entry.source_ip,
  sourcePort: entry.source_port,
  destIp: entry.dest_ip,
  destPort: entry.dest_port,
  vendorRuleId: entry.vendor_rule_id,
  reason: entry.reason,
  length: entry.length,
});

/**
 * Stores the parsed log entries newer than what is stored for the gateway. The log has no ids: an entry is new
 * when it is later than the newest stored one, or at that same instant beyond the stored entries matching it.
 * Entries older than `log_retention_days`, and blocked ones while `log_blocked` is off, are not stored.
 */
export async function ingestParsedLogs(
  ctx: ServiceContext,
  device: Device,
  parsed: { items: LiveLogEntry[]; skipped: number },
): Promise<LogIngestReport> {
  const settings = await readSettings(ctx.db, ctx.orgId);
  const cutoff = ctx.now().getTime() - settings.log_retention_days * 86_400_000;
  const t = firewallLogs;
  const [newest] = await ctx.db
    .select({ loggedAt: t.loggedAt })
    .from(t)
    .where(eq(t.deviceId, device.id))
    .orderBy(desc(t.loggedAt))
    .limit(1);
  const seenAtNewest = new Map<string, number>();
  if (newest) {
    const atNewest = await ctx.db
      .select()
      .from(t)
      .where(and(eq(t.deviceId, device.id), eq(t.loggedAt, newest.loggedAt)));
    for (const row of atNewest) seenAtNewest.set(fingerprint(row), (seenAtNewest.get(fingerprint(row)) ?? 0) + 1);
  }
  const rows: Array<ReturnType<typeof logRow>> = [];
  let ignored = 0;
  for (const entry of parsed.items) {
    const row = logRow(entry);
    const time = row.loggedAt.getTime();
    const blocked = row.action !== 'pass';
    if (time < cutoff || (blocked && !settings.log_blocked)) {
      ignored++;
      continue;
    }
    if (newest && time <= newest.loggedAt.getTime()) {
      const left = time === newest.loggedAt.getTime() ? (seenAtNewest.get(fingerprint(row)) ?? 0) : Infinity;
      if (left > 0) {
        if (left !== Infinity) seenAtNewest.set(fingerprint(row), left - 1);
        ignored++;
        continue;
      }
    }
    rows.push(row);
  }
  if (rows.length > 0) {
    await ctx.db
      .insert(t)
      .values(rows.map((row) => ({ ...row, orgId: ctx.orgId, siteId: device.siteId, deviceId: device.id })));
  }
  return { ingested: rows.length, unreadable: parsed.skipped, ignored };
}

/** Reads and stores the gateway's new firewall log entries (the log-ingestion job between syncs). */
export async function ingestGatewayLogs(
  ctx: ServiceContext,
  gatewayId: string,
  live: LiveGateway,
): Promise<LogIngestReport> {
  const device = await loadDevice(ctx, gatewayId);
  return ingestParsedLogs(ctx, device, await live.firewallLog(LOG_WINDOW));
}
