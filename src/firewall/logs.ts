/**
 * @module Firewall traffic logs (`/api/v1/firewall/logs`): appended by log ingestion (`appendLogs`), searched
 * by action, source / destination address, device, site and time range (newest first), and pruned after the
 * org's `log_retention_days` (`pruneLogs`). Logs are never changed through the API.
 */
import { and, desc, eq, gte, inArray, lt, type SQL } from 'drizzle-orm';
import type { ServiceContext } from '../core/context.ts';
import { paging } from '../core/paging.ts';
import { firewallLogs } from '../store/schema/firewall.ts';
import type { LOG_ACTIONS } from './fields.ts';
import type { Device, SiteScope } from './objects.ts';
import { readSettings } from './settings.ts';

type FirewallLogRow = typeof firewallLogs.$inferSelect;
type FirewallLogView = Omit<FirewallLogRow, 'orgId'>;

interface LogFilter {
  scope: SiteScope;
  siteId?: string;
  deviceId?: string;
  action?: (typeof LOG_ACTIONS)[number];
  /** Canonical address text (the route normalizes it). */
  sourceIp?: string;
  destIp?: string;
  since?: Date;
  until?: Date;
  limit?: number;
  offset?: number;
}

export async function listLogs(ctx: ServiceContext, filter: LogFilter): Promise<FirewallLogView[]> {
  if (filter.scope !== 'all' && filter.scope.length === 0) return [];
  const t = firewallLogs;
  const where: (SQL | undefined)[] = [eq(t.orgId, ctx.orgId)];
  if (filter.scope !== 'all') where.push(inArray(t.siteId, [...filter.scope]));
  if (filter.siteId) where.push(eq(t.siteId, filter.siteId));
  if (filter.deviceId) where.push(eq(t.deviceId, filter.deviceId));
  if (filter.action) where.push(eq(t.action, filter.action));
  if (filter.sourceIp) where.push(eq(t.sourceIp, filter.sourceIp));
  if (filter.destIp) where.push(eq(t.destIp, filter.destIp));
  if (filter.since) where.push(gte(t.loggedAt, filter.since));
  if (filter.until) where.push(lt(t.loggedAt, filter.until));
  const { limit, offset } = paging(filter);
  const rows = await ctx.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(desc(t.loggedAt), desc(t.id))
    .limit(limit)
    .offset(offset);
  return rows.map(({ orgId: _org, ...rest }) => rest);
}

type LogInput = Omit<typeof firewallLogs.$inferInsert, 'id' | 'orgId' | 'siteId' | 'deviceId' | 'createdAt'>;

/** Appends parsed log lines of `device`. */
export async function appendLogs(ctx: ServiceContext, device: Device, lines: readonly LogInput[]): Promise<number> {
  if (lines.length === 0) return 0;
  const rows = await ctx.db
    .insert(firewallLogs)
    .values(lines.map((line) => ({ ...line, orgId: ctx.orgId, siteId: device.siteId, deviceId: device.id })))
    .returning({ id: firewallLogs.id });
  return rows.length;
}

/** Deletes the org's log lines older than its `log_retention_days`; returns how many went. */
export async function pruneLogs(ctx: ServiceContext): Promise<number> {
  const { log_retention_days: days } = await readSettings(ctx.db, ctx.orgId);
  const cutoff = new Date(ctx.now().getTime() - days * 86_400_000);
  const rows = await ctx.db
    .delete(firewallLogs)
    .where(and(eq(firewallLogs.orgId, ctx.orgId), lt(firewallLogs.loggedAt, cutoff)))
    .returning({ id: firewallLogs.id });
  return rows.length;
}
