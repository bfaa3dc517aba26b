/**
 * @module IDS/IPS alerts (`/api/v1/firewall/ids/alerts`): filled by sync (`recordIdsAlerts`, idempotent on the
 * vendor's alert id), searched by severity, time range, acknowledged and site, counted by severity, and
 * acknowledged (audited). Alerts are history: no create or delete through the API.
 */
import { and, count, desc, eq, gte, inArray, lt, type SQL } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { NotFoundError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { paging } from '../core/paging.ts';
import { requireIdOrNotFound } from '../core/validate.ts';
import { firewallIdsAlerts } from '../store/schema/firewall.ts';
import { IDS_SEVERITIES } from './fields.ts';
import type { LiveIdsAlert } from '../adapters/live.ts';
import type { Device, SiteScope } from './objects.ts';

type IdsAlertRow = typeof firewallIdsAlerts.$inferSelect;
type IdsAlertView = Omit<IdsAlertRow, 'orgId'>;
type IdsSeverity = (typeof IDS_SEVERITIES)[number];

interface IdsAlertFilter {
  scope: SiteScope;
  siteId?: string;
  deviceId?: string;
  severity?: IdsSeverity;
  acknowledged?: boolean;
  since?: Date;
  until?: Date;
}

function conditions(ctx: ServiceContext, filter: IdsAlertFilter): (SQL | undefined)[] {
  const t = firewallIdsAlerts;
  const where: (SQL | undefined)[] = [eq(t.orgId, ctx.orgId)];
  if (filter.scope !== 'all') where.push(inArray(t.siteId, [...filter.scope]));
  if (filter.siteId) where.push(eq(t.siteId, filter.siteId));
  if (filter.deviceId) where.push(eq(t.deviceId, filter.deviceId));
  if (filter.severity) where.push(eq(t.severity, filter.severity));
  if (filter.acknowledged !== undefined) where.push(eq(t.acknowledged, filter.acknowledged));
  if (filter.since) where.push(gte(t.occurredAt, filter.since));
  if (filter.until) where.push(lt(t.occurredAt, filter.until));
  return where;
}

const view = ({ orgId: _org, ...rest }: IdsAlertRow): IdsAlertView => rest;

/** Newest first. */
export async function listIdsAlerts(
  ctx: ServiceContext,
  filter: IdsAlertFilter & { limit?: number; offset?: number },
): Promise<IdsAlertView[]> {
  if (filter.scope !== 'all' && filter.scope.length === 0) return [];
  const { limit, offset } = paging(filter);
  const rows = await ctx.db
    .select()
    .from(firewallIdsAlerts)
    .where(and(...conditions(ctx, filter)))
    .orderBy(desc(firewallIdsAlerts.occurredAt), desc(firewallIdsAlerts.id))
    .limit(limit)
    .offset(offset);
  return rows.map(view);
}

interface IdsAlertStats {
  total: number;
  unacknowledged: number;
  by_severity: Record<IdsSeverity, number>;
}

export async function idsAlertStats(ctx: ServiceContext, filter: IdsAlertFilter): Promise<IdsAlertStats> {
  const stats: IdsAlertStats = {
    total: 0,
    unacknowledged: 0,
    by_severity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
  };
  if (filter.scope !== 'all' && filter.scope.length === 0) return stats;
  const t = firewallIdsAlerts;
  const rows = await ctx.db
    .select({ severity: t.severity, acknowledged: t.acknowledged, n: count() })
    .from(t)
    .where(and(...conditions(ctx, filter)))
    .groupBy(t.severity, t.acknowledged);
  for (const row of rows) {
    stats.total += row.n;
    if (!row.acknowledged) stats.unacknowledged += row.n;
    if (Object.hasOwn(stats.by_severity, row.severity)) stats.by_severity[row.severity as IdsSeverity] += row.n;
  }
  return stats;
}

export async function getIdsAlert(ctx: ServiceContext, id: string): Promise<IdsAlertView> {
  requireIdOrNotFound('IDS alert', id);
  const [row] = await ctx.db
    .select()
    .from(firewallIdsAlerts)
    .where(and(eq(firewallIdsAlerts.orgId, ctx.orgId), eq(firewallIdsAlerts.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError('IDS alert', id);
  return view(row);
}

/** Marks an alert acknowledged by the actor; acknowledging twice keeps the first time and person. */
export async function acknowledgeIdsAlert(ctx: ServiceContext, id: string): Promise<IdsAlertView> {
  const before = await getIdsAlert(ctx, id);
  if (before.acknowledged) return before;
  return inTransaction(ctx, async (tx) => {
    const [row] = await tx.db
      .update(firewallIdsAlerts)
      .set({ acknowledged: true, acknowledgedAt: tx.now(), acknowledgedBy: tx.actor.id })
      .where(and(eq(firewallIdsAlerts.orgId, tx.orgId), eq(firewallIdsAlerts.id, before.id)))
      .returning();
    const after = view(row as IdsAlertRow);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'ids_alert.acknowledge',
      targetType: 'ids_alert',
      targetId: before.id,
      siteId: before.siteId,
      before: { acknowledged: false },
      after: { acknowledged: true },
    });
    return after;
  });
}

type IdsAlertInput = Omit<
  typeof firewallIdsAlerts.$inferInsert,
  'id' | 'orgId' | 'siteId' | 'deviceId' | 'acknowledged' | 'acknowledgedAt' | 'acknowledgedBy' | 'createdAt'
>;

/** Stores alerts a sync read from `device`; an alert whose vendor id is already stored is skipped. */
export async function recordIdsAlerts(
  ctx: ServiceContext,
  device: Device,
  alerts: readonly IdsAlertInput[],
): Promise<IdsAlertView[]> {
  if (alerts.length === 0) return [];
  const rows = await ctx.db
    .insert(firewallIdsAlerts)
    .values(alerts.map((alert) => ({ ...alert, orgId: ctx.orgId, siteId: device.siteId, deviceId: device.id })))
    .onConflictDoNothing()
    .returning();
  return rows.map(view);
}

/** A vendor's alert (src/adapters/live.ts `LiveIdsAlert`) as a stored row's values. */
export function idsAlertInput(alert: LiveIdsAlert): IdsAlertInput {
  return {
    vendorAlertId: alert.vendor_alert_id,
    severity: alert.severity,
    signatureId: alert.signature_id,
    signature: alert.signature,
    category: alert.category,
    protocol: alert.protocol,
    sourceIp: alert.source_ip,
    sourcePort: alert.source_port,
    destIp: alert.dest_ip,
    destPort: alert.dest_port,
    actionTaken: alert.action_taken,
    occurredAt: new Date(alert.occurred_at),
  };
}
