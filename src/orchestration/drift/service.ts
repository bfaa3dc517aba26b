/**
 * @module Drift events, their resolution and suppressions (docs/reference/freesdn-firewall-module.md §16, §28;
 * docs/drift.md; ADRs 0250-0253):
 *
 * - `checkSite` checks every gateway of a site (src/orchestration/drift/check.ts).
 * - `listDriftEvents` / `driftSummary`: paged, site-scoped; the summary counts by severity and pending/resolved.
 * - `resolveDriftEvent`: `reapply` stages the write that restores the baseline through the pending-change engine
 *   (src/firewall/pending.ts, with every gate; `force` applies it at once where the deployment allows); the event
 *   is `remediating` until a check sees the device match again. `accept` makes what the device shows the baseline.
 *   `ignore` closes the event; the same drift (the same actual state) is not reported again, and `suppress` adds a
 *   silencing suppression for the resource and drift type.
 * - Suppressions: created, listed, deactivated (never deleted: the audit keeps why drift went unreported).
 */
import { and, count, desc, eq, inArray, ne, type SQL } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import { type ServiceContext, inTransaction } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { requireIdOrNotFound } from '../../core/validate.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { storeEvents } from '../../events/bus.ts';
import { requireVendor } from '../../firewall/adapter.ts';
import { getGateway, listGateways } from '../../firewall/gateways.ts';
import { fromDevice, liveGateway } from '../../firewall/live.ts';
import { applyPendingChanges, type PendingChangeView, type PendingDeps, submitWrite } from '../../firewall/pending.ts';
import { getSite } from '../../identity/sites.ts';
import { driftEvents, driftGatewayState, driftSuppressions } from '../../store/schema/drift.ts';
import { checkGateway, driftEvent, dropBaseline, expectationOf, type GatewayCheckResult, putBaseline, readOnce } from './check.ts';
import {
  DRIFT_SEVERITIES,
  DRIFT_STATUSES,
  DRIFT_TYPES,
  type DriftSeverity,
  type DriftSource,
  type DriftStatus,
  type DriftType,
  RESOLVE_ACTIONS,
  type ResolveAction,
  SUPPRESSION_MODES,
  type SuppressionMode,
} from './model.ts';
import { DRIFT_SOURCES, findSource } from './sources.ts';

type EventRow = typeof driftEvents.$inferSelect;
type SuppressionRow = typeof driftSuppressions.$inferSelect;

export interface DriftEventView {
  id: string;
  siteId: string;
  deviceId: string;
  resourceType: string;
  resourceKey: string;
  resourceName: string;
  driftType: DriftType;
  severity: DriftSeverity;
  status: DriftStatus;
  resolution: string | null;
  message: string;
  expected: unknown;
  actual: unknown;
  details: unknown;
  occurrences: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  pendingChangeId: string | null;
  suppressionId: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
}

const toView = (row: EventRow): DriftEventView => ({
  id: row.id,
  siteId: row.siteId,
  deviceId: row.deviceId,
  resourceType: row.resourceType,
  resourceKey: row.resourceKey,
  resourceName: row.resourceName,
  driftType: row.driftType as DriftType,
  severity: row.severity as DriftSeverity,
  status: row.status as DriftStatus,
  resolution: row.resolution,
  message: row.message,
  expected: row.expected,
  actual: row.actual,
  details: row.details,
  occurrences: row.occurrences,
  firstSeenAt: row.firstSeenAt,
  lastSeenAt: row.lastSeenAt,
  pendingChangeId: row.pendingChangeId,
  suppressionId: row.suppressionId,
  resolvedAt: row.resolvedAt,
  resolvedBy: row.resolvedBy,
});

export const RESOURCE_TYPES = DRIFT_SOURCES.map((s) => s.resourceType);

function oneOf<T extends string>(field: string, values: readonly T[], value: unknown): T {
  const found = values.find((v) => v === value);
  if (found === undefined) throw new ValidationError(field, `${field} must be one of ${values.join(', ')}`);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Checks

export interface SiteCheckResult {
  site_id: string;
  gateways: GatewayCheckResult[];
}

/** Checks every gateway of the site, one after the other; a device fault of one does not stop the others. */
export async function checkSite(ctx: ServiceContext, deps: PendingDeps, siteId: string): Promise<SiteCheckResult> {
  const site = await getSite(ctx, siteId);
  const gateways = await listGateways(ctx, { scope: 'all', siteId: site.id, limit: 1000 });
  const results: GatewayCheckResult[] = [];
  for (const gateway of gateways) results.push(await checkGateway(ctx, deps, gateway.id));
  return { site_id: site.id, gateways: results };
}

// ---------------------------------------------------------------------------------------------------------------
// Events

export interface DriftEventFilters {
  site_id?: string;
  device_id?: string;
  severity?: string;
  status?: string;
  drift_type?: string;
  resource_type?: string;
}

function eventConditions(ctx: ServiceContext, scope: 'all' | string[], filters: DriftEventFilters): SQL[] {
  const conditions: SQL[] = [eq(driftEvents.orgId, ctx.orgId)];
  if (scope !== 'all') conditions.push(inArray(driftEvents.siteId, scope));
  if (filters.site_id) conditions.push(eq(driftEvents.siteId, filters.site_id));
  if (filters.device_id) conditions.push(eq(driftEvents.deviceId, filters.device_id));
  if (filters.severity) conditions.push(eq(driftEvents.severity, oneOf('severity', DRIFT_SEVERITIES, filters.severity)));
  if (filters.status) conditions.push(eq(driftEvents.status, oneOf('status', DRIFT_STATUSES, filters.status)));
  if (filters.drift_type) conditions.push(eq(driftEvents.driftType, oneOf('drift_type', DRIFT_TYPES, filters.drift_type)));
  if (filters.resource_type) conditions.push(eq(driftEvents.resourceType, filters.resource_type));
  return conditions;
}

/** Newest seen first, with the total of the filter (for paging). */
export async function listDriftEvents(
  ctx: ServiceContext,
  options: { scope: 'all' | string[]; filters: DriftEventFilters; limit?: number; offset?: number },
): Promise<{ items: DriftEventView[]; total: number }> {
  if (options.scope !== 'all' && options.scope.length === 0) return { items: [], total: 0 };
  const where = and(...eventConditions(ctx, options.scope, options.filters));
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select()
    .from(driftEvents)
    .where(where)
    .orderBy(desc(driftEvents.lastSeenAt), desc(driftEvents.id))
    .limit(limit)
    .offset(offset);
  const [total] = await ctx.db.select({ n: count() }).from(driftEvents).where(where);
  return { items: rows.map(toView), total: total?.n ?? 0 };
}

export async function getDriftEvent(ctx: ServiceContext, id: string): Promise<DriftEventView> {
  requireIdOrNotFound('drift event', id);
  const [row] = await ctx.db
    .select()
    .from(driftEvents)
    .where(and(eq(driftEvents.orgId, ctx.orgId), eq(driftEvents.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError('drift event', id);
  return toView(row);
}

export interface DriftSummary {
  total: number;
  critical: number;
  warning: number;
  info: number;
  /** Not resolved yet (open or remediating). */
  pending: number;
  resolved: number;
  /** Pending events by severity: what needs a look now. */
  pending_by_severity: Record<DriftSeverity, number>;
  /** Gateways whose last check failed or was skipped. */
  gateways_not_checked: number;
}

export async function driftSummary(
  ctx: ServiceContext,
  options: { scope: 'all' | string[]; siteId?: string },
): Promise<DriftSummary> {
  const summary: DriftSummary = {
    total: 0,
    critical: 0,
    warning: 0,
    info: 0,
    pending: 0,
    resolved: 0,
    pending_by_severity: { critical: 0, warning: 0, info: 0 },
    gateways_not_checked: 0,
  };
  if (options.scope !== 'all' && options.scope.length === 0) return summary;
  const conditions = eventConditions(ctx, options.scope, options.siteId ? { site_id: options.siteId } : {});
  const rows = await ctx.db
    .select({ severity: driftEvents.severity, status: driftEvents.status, n: count() })
    .from(driftEvents)
    .where(and(...conditions))
    .groupBy(driftEvents.severity, driftEvents.status);
  for (const row of rows) {
    const severity = row.severity as DriftSeverity;
    summary.total += row.n;
    summary[severity] += row.n;
    if (row.status === 'resolved') summary.resolved += row.n;
    else {
      summary.pending += row.n;
      summary.pending_by_severity[severity] += row.n;
    }
  }
  const states: SQL[] = [eq(driftGatewayState.orgId, ctx.orgId), ne(driftGatewayState.lastOutcome, 'ok')];
  if (options.scope !== 'all') states.push(inArray(driftGatewayState.siteId, options.scope));
  if (options.siteId) states.push(eq(driftGatewayState.siteId, options.siteId));
  const [notChecked] = await ctx.db.select({ n: count() }).from(driftGatewayState).where(and(...states));
  summary.gateways_not_checked = notChecked?.n ?? 0;
  return summary;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolve

export interface ResolveOptions {
  resolution: ResolveAction;
  /** reapply: apply the staged write at once (gate 2; refused on a read-only deployment). */
  force?: boolean;
  /** reapply of a deletion with `force`: the confirmation a forced delete needs. */
  confirmed?: boolean;
  /** ignore: also add a silencing suppression for this resource and drift type. */
  suppress?: boolean;
  /** Why (kept on the suppression and in the audit log). */
  reason?: string;
}

export interface ResolveResult {
  event: DriftEventView;
  pending_change: PendingChangeView | null;
  suppression: SuppressionView | null;
}

async function closeEvent(
  ctx: ServiceContext,
  deps: PendingDeps,
  event: DriftEventView,
  set: Partial<typeof driftEvents.$inferInsert>,
  audit: { action: string; extra?: Record<string, unknown> },
  inside?: (tx: ServiceContext) => Promise<void>,
): Promise<DriftEventView> {
  const { row, events } = await inTransaction(ctx, async (tx) => {
    const [updated] = await tx.db
      .update(driftEvents)
      .set(set)
      .where(and(eq(driftEvents.id, event.id), ne(driftEvents.status, 'resolved')))
      .returning();
    if (!updated) throw new ConflictError(`drift event ${event.id} is already resolved`);
    await inside?.(tx);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: audit.action,
      targetType: 'drift_event',
      targetId: event.id,
      siteId: event.siteId,
      before: event,
      after: { ...toView(updated), ...audit.extra },
    });
    const out = updated.status === 'resolved' ? [driftEvent(updated, 'drift.resolved')] : [];
    return { row: updated, events: await storeEvents(tx.db, out) };
  });
  deps.events.emit(events);
  return toView(row);
}

/**
 * Reads the device's resources of the event's type (for a reapply's placement, a knoc alias's live entries, the
 * interface a DHCP scope goes back on), completing `context` with what only the device knows.
 */
async function liveResources(deps: PendingDeps, gatewayId: string, vendorId: string, source: DriftSource<unknown>, context: unknown) {
  const vendor = requireVendor(vendorId);
  const { adapter } = await fromDevice(() => deps.device(gatewayId));
  return fromDevice(() => source.read(readOnce(liveGateway(vendor, adapter)), context));
}

export async function resolveDriftEvent(
  ctx: ServiceContext,
  deps: PendingDeps,
  id: string,
  options: ResolveOptions,
): Promise<ResolveResult> {
  const resolution = oneOf('resolution', RESOLVE_ACTIONS, options.resolution);
  const event = await getDriftEvent(ctx, id);
  if (event.status === 'resolved') throw new ConflictError(`drift event ${event.id} is already resolved (${event.resolution ?? ''})`);
  const resolved = { status: 'resolved', resolvedAt: ctx.now(), resolvedBy: ctx.actor.id };

  if (resolution === 'ignore') {
    let suppression: SuppressionView | null = null;
    if (options.suppress) {
      suppression = await createSuppression(ctx, {
        site_id: event.siteId,
        device_id: event.deviceId,
        resource_type: event.resourceType,
        pattern: event.resourceKey.replace(/[*?]/g, '?'),
        mode: 'silence',
        drift_type: event.driftType,
        reason: options.reason ?? `drift event ${event.id} ignored`,
      });
    }
    const view = await closeEvent(ctx, deps, event, { ...resolved, resolution: 'ignored', suppressionId: suppression?.id ?? null }, {
      action: 'drift_event.ignore',
      extra: options.reason ? { reason: options.reason } : {},
    });
    return { event: view, pending_change: null, suppression };
  }

  const source = findSource(event.resourceType);
  if (source === undefined) throw new ConflictError(`drift of ${event.resourceType} cannot be resolved here`);
  const gateway = await getGateway(ctx, event.deviceId);

  if (resolution === 'accept') {
    if (event.driftType === 'suppression_violated') {
      throw new ConflictError('a suppression violation cannot be accepted: deactivate the suppression, or reapply to remove the resource', 'resolution');
    }
    if (source.expectation !== undefined) {
      throw new ConflictError(
        `the canonical state is the expectation of ${event.resourceType}: change it through its own API (canonical VLANs, DHCP, DNS), reapply, or ignore (with suppress) this drift`,
        'resolution',
      );
    }
    const context = await source.context(ctx, gateway.id, gateway.siteId);
    const actual = event.actual as Record<string, unknown> | null;
    const view = await closeEvent(ctx, deps, event, { ...resolved, resolution: 'accepted' }, { action: 'drift_event.accept' }, async (tx) => {
      if (actual === null) await dropBaseline(tx.db, gateway.id, event.resourceType, event.resourceKey);
      else {
        const resource = source.baselineOf({ key: event.resourceKey, name: event.resourceName, body: actual }, context);
        await putBaseline(tx.db, { orgId: tx.orgId, siteId: gateway.siteId, deviceId: gateway.id, resourceType: event.resourceType, resource, source: 'accepted', now: tx.now() });
      }
    });
    return { event: view, pending_change: null, suppression: null };
  }

  // reapply
  if (event.status === 'remediating') {
    throw new ConflictError(`drift event ${event.id} already has a staged reapply, pending change ${event.pendingChangeId ?? ''}`);
  }
  const context = await source.context(ctx, gateway.id, gateway.siteId);
  const actual = await liveResources(deps, gateway.id, gateway.vendor, source, context);
  const baseline = await expectationOf(ctx.db, gateway.id, source, context);
  const write = source.remedy(
    {
      resourceKey: event.resourceKey,
      resourceName: event.resourceName,
      driftType: event.driftType,
      expected: event.expected as Record<string, unknown> | null,
      actual: event.actual as Record<string, unknown> | null,
    },
    baseline,
    actual,
    context,
  );
  const { change, applied } = await submitWrite(ctx, deps, {
    gateway,
    write,
    force: options.force ?? false,
    confirmed: options.confirmed ?? false,
    overrideLockout: false,
    overrideReason: null,
  });
  const done = applied && change.status === 'applied';
  const view = await closeEvent(
    ctx,
    deps,
    event,
    done ? { ...resolved, resolution: 'reapplied', pendingChangeId: change.id } : { status: 'remediating', pendingChangeId: change.id },
    { action: 'drift_event.reapply', extra: { pending_change_status: change.status } },
  );
  return { event: view, pending_change: change, suppression: null };
}

/**
 * `auto_remediate_drift`: reapply each event the check opened, through the staged path; applied at once (with
 * the apply gates) unless the deployment is read-only, where it stays staged for review. Failures are returned,
 * never thrown: one event that cannot be restored must not stop the others.
 */
export async function autoRemediate(
  ctx: ServiceContext,
  deps: PendingDeps,
  eventIds: readonly string[],
): Promise<Array<{ event_id: string; pending_change_id: string | null; error: string | null }>> {
  const out: Array<{ event_id: string; pending_change_id: string | null; error: string | null }> = [];
  for (const id of eventIds) {
    try {
      const { pending_change: change } = await resolveDriftEvent(ctx, deps, id, { resolution: 'reapply' });
      if (change !== null && !deps.readOnly) {
        await applyPendingChanges(ctx, deps, [change.id], { confirmed: true });
      }
      out.push({ event_id: id, pending_change_id: change?.id ?? null, error: null });
    } catch (err) {
      out.push({ event_id: id, pending_change_id: null, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Suppressions

export interface SuppressionView {
  id: string;
  siteId: string;
  deviceId: string | null;
  resourceType: string;
  pattern: string;
  mode: SuppressionMode;
  driftType: DriftType | null;
  reason: string;
  isActive: boolean;
  createdBy: string | null;
  createdAt: Date;
  deactivatedAt: Date | null;
  deactivatedBy: string | null;
}

const suppressionView = (row: SuppressionRow): SuppressionView => ({
  id: row.id,
  siteId: row.siteId,
  deviceId: row.deviceId,
  resourceType: row.resourceType,
  pattern: row.pattern,
  mode: row.mode as SuppressionMode,
  driftType: row.driftType as DriftType | null,
  reason: row.reason,
  isActive: row.isActive,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  deactivatedAt: row.deactivatedAt,
  deactivatedBy: row.deactivatedBy,
});

export interface SuppressionInput {
  site_id: string;
  device_id?: string | null;
  resource_type: string;
  pattern: string;
  mode?: string;
  drift_type?: string | null;
  reason: string;
}

export async function createSuppression(ctx: ServiceContext, input: SuppressionInput): Promise<SuppressionView> {
  const site = await getSite(ctx, input.site_id).catch(() => {
    throw new ValidationError('site_id', 'site_id: no such site');
  });
  let deviceId: string | null = null;
  if (input.device_id) {
    const gateway = await getGateway(ctx, input.device_id).catch(() => {
      throw new ValidationError('device_id', 'device_id: no such gateway');
    });
    if (gateway.siteId !== site.id) throw new ValidationError('device_id', 'device_id must be a gateway of site_id');
    deviceId = gateway.id;
  }
  const resourceType = oneOf('resource_type', RESOURCE_TYPES, input.resource_type);
  const mode = oneOf('mode', SUPPRESSION_MODES, input.mode ?? 'silence');
  const pattern = input.pattern.trim();
  if (pattern.length === 0 || pattern.length > 200) throw new ValidationError('pattern', 'pattern must be 1-200 characters');
  let driftType: DriftType | null = null;
  if (input.drift_type !== undefined && input.drift_type !== null) driftType = oneOf('drift_type', DRIFT_TYPES, input.drift_type);
  if (mode === 'forbid' && driftType !== null) {
    throw new ValidationError('drift_type', 'a forbidding suppression reports suppression_violated; leave drift_type out');
  }
  if (mode === 'silence' && driftType === 'suppression_violated') {
    throw new ValidationError('drift_type', 'suppression_violated is silenced by deactivating the suppression that reports it');
  }
  const reason = input.reason.trim();
  if (reason.length === 0) throw new ValidationError('reason', 'reason is required');
  return inTransaction(ctx, async (tx) => {
    const [row] = await tx.db
      .insert(driftSuppressions)
      .values({ orgId: tx.orgId, siteId: site.id, deviceId, resourceType, pattern, mode, driftType, reason, createdBy: tx.actor.id })
      .returning();
    const view = suppressionView(row as SuppressionRow);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'drift_suppression.create',
      targetType: 'drift_suppression',
      targetId: view.id,
      siteId: view.siteId,
      after: view,
    });
    return view;
  });
}

export async function getSuppression(ctx: ServiceContext, id: string): Promise<SuppressionView> {
  requireIdOrNotFound('drift suppression', id);
  const [row] = await ctx.db
    .select()
    .from(driftSuppressions)
    .where(and(eq(driftSuppressions.orgId, ctx.orgId), eq(driftSuppressions.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError('drift suppression', id);
  return suppressionView(row);
}

export async function listSuppressions(
  ctx: ServiceContext,
  options: { scope: 'all' | string[]; siteId?: string; activeOnly?: boolean; limit?: number; offset?: number },
): Promise<SuppressionView[]> {
  if (options.scope !== 'all' && options.scope.length === 0) return [];
  const conditions: SQL[] = [eq(driftSuppressions.orgId, ctx.orgId)];
  if (options.scope !== 'all') conditions.push(inArray(driftSuppressions.siteId, options.scope));
  if (options.siteId) conditions.push(eq(driftSuppressions.siteId, options.siteId));
  if (options.activeOnly ?? true) conditions.push(eq(driftSuppressions.isActive, true));
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select()
    .from(driftSuppressions)
    .where(and(...conditions))
    .orderBy(desc(driftSuppressions.createdAt), desc(driftSuppressions.id))
    .limit(limit)
    .offset(offset);
  return rows.map(suppressionView);
}

export async function deactivateSuppression(ctx: ServiceContext, id: string): Promise<SuppressionView> {
  const before = await getSuppression(ctx, id);
  if (!before.isActive) throw new ConflictError(`drift suppression ${before.id} is already inactive`);
  return inTransaction(ctx, async (tx) => {
    const [row] = await tx.db
      .update(driftSuppressions)
      .set({ isActive: false, deactivatedAt: tx.now(), deactivatedBy: tx.actor.id, updatedAt: tx.now() })
      .where(and(eq(driftSuppressions.id, before.id), eq(driftSuppressions.isActive, true)))
      .returning();
    if (!row) throw new ConflictError(`drift suppression ${before.id} is already inactive`);
    const view = suppressionView(row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'drift_suppression.deactivate',
      targetType: 'drift_suppression',
      targetId: view.id,
      siteId: view.siteId,
      before,
      after: view,
    });
    return view;
  });
}
