/**
 * @module Reading distributions (`GET /api/v1/firewall/distribution[/{id}]`): the record with the current
 * attempt's plan and per-step results, and earlier attempts' steps as history. Lists are newest first and scoped
 * to the caller's sites.
 */
import { and, asc, count, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { ServiceContext } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { requireIdOrNotFound } from '../../core/validate.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { SiteScope } from '../../firewall/objects.ts';
import { gateways } from '../../store/schema/access.ts';
import { distributionSteps, distributions } from '../../store/schema/distribution.ts';
import {
  DISTRIBUTION_STATUSES,
  type DistributionStatus,
  type DistributionStepView,
  type DistributionView,
  type Placement,
  type StepAction,
  type StepKind,
  type StepStatus,
} from './model.ts';

export type DistributionRow = typeof distributions.$inferSelect;
export type StepRow = typeof distributionSteps.$inferSelect;

export function stepView(row: StepRow, deviceName: string): DistributionStepView {
  return {
    id: row.id,
    attempt: row.attempt,
    seq: row.seq,
    tier: row.tier,
    deviceId: row.deviceId,
    deviceName,
    kind: row.kind as StepKind,
    resourceKey: row.resourceKey,
    action: row.action as StepAction,
    status: row.status as StepStatus,
    desired: row.desired,
    before: row.before,
    target: row.target,
    compensation: row.compensation,
    pendingChangeId: row.pendingChangeId,
    compensationChangeId: row.compensationChangeId,
    verification: row.verification,
    error: row.error,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

function summaryOf(row: DistributionRow): Omit<DistributionView, 'steps' | 'history'> {
  return {
    id: row.id,
    siteId: row.siteId,
    canonicalVlanId: row.canonicalVlanId,
    vlanTag: row.vlanTag,
    vlanName: row.vlanName,
    status: row.status as DistributionStatus,
    placement: row.placement as Placement,
    attempt: row.attempt,
    error: row.error as DistributionView['error'],
    triggeredBy: row.triggeredBy,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function findDistribution(ctx: ServiceContext, id: string): Promise<DistributionRow> {
  requireIdOrNotFound('distribution', id);
  const [row] = await ctx.db
    .select()
    .from(distributions)
    .where(and(eq(distributions.orgId, ctx.orgId), eq(distributions.id, id.toLowerCase())))
    .limit(1);
  if (!row) throw new NotFoundError('distribution', id);
  return row;
}

/** The distribution with its plan and per-step results (the current attempt), earlier attempts as history. */
export async function getDistribution(ctx: ServiceContext, id: string): Promise<DistributionView> {
  const row = await findDistribution(ctx, id);
  const steps = await ctx.db
    .select({ step: distributionSteps, deviceName: gateways.name })
    .from(distributionSteps)
    .innerJoin(gateways, eq(gateways.id, distributionSteps.deviceId))
    .where(eq(distributionSteps.distributionId, row.id))
    .orderBy(desc(distributionSteps.attempt), asc(distributionSteps.seq));
  const views = steps.map((s) => stepView(s.step, s.deviceName));
  return {
    ...summaryOf(row),
    steps: views.filter((s) => s.attempt === row.attempt),
    history: views.filter((s) => s.attempt !== row.attempt),
  };
}

export interface DistributionFilters {
  site_id?: string;
  status?: string;
  canonical_vlan_id?: string;
}

/** Newest first, without steps (the detail has them), with the filter's total for paging. */
export async function listDistributions(
  ctx: ServiceContext,
  options: { scope: SiteScope; filters?: DistributionFilters; limit?: number; offset?: number },
): Promise<{ items: Array<Omit<DistributionView, 'steps' | 'history'>>; total: number }> {
  if (options.scope !== 'all' && options.scope.length === 0) return { items: [], total: 0 };
  const filters = options.filters ?? {};
  const conditions: SQL[] = [eq(distributions.orgId, ctx.orgId)];
  if (options.scope !== 'all') conditions.push(inArray(distributions.siteId, [...options.scope]));
  if (filters.site_id) conditions.push(eq(distributions.siteId, filters.site_id));
  if (filters.canonical_vlan_id) conditions.push(eq(distributions.canonicalVlanId, filters.canonical_vlan_id));
  if (filters.status) {
    const status = DISTRIBUTION_STATUSES.find((s) => s === filters.status);
    if (status === undefined) {
      throw new ValidationError('status', `status must be one of ${DISTRIBUTION_STATUSES.join(', ')}`);
    }
    conditions.push(eq(distributions.status, status));
  }
  const { limit, offset } = paging(options);
  const where = and(...conditions);
  const rows = await ctx.db
    .select()
    .from(distributions)
    .where(where)
    .orderBy(desc(distributions.createdAt), desc(distributions.id))
    .limit(limit)
    .offset(offset);
  const [total] = await ctx.db.select({ n: count() }).from(distributions).where(where);
  return { items: rows.map(summaryOf), total: total?.n ?? 0 };
}
