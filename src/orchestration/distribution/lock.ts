/**
 * @module One distribution per site at a time (docs/orchestration.md "Distribution", ADR 0267): a
 * `distribution_locks` row keyed by the site. Taking it is one INSERT … ON CONFLICT DO UPDATE that only replaces
 * an EXPIRED holder, so two triggers racing on one site cannot both win; the loser gets a 409 naming the running
 * distribution. The saga renews the expiry (`distribution_lock_ttl_seconds`) before every step and deletes the
 * row at its end; a worker that died leaves a row that expires, and `cleanupDistributionLocks` (the
 * `gateway.cleanup_distribution_locks` job, every 10 minutes) deletes it and fails the distribution it held.
 */
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { record, SYSTEM_ACTOR } from '../../audit/record.ts';
import type { ServiceContext } from '../../core/context.ts';
import { ConflictError } from '../../errors.ts';
import type { EventBus } from '../../events/bus.ts';
import { storeEvents } from '../../events/bus.ts';
import type { Db } from '../../store/db.ts';
import { distributionLocks, distributions } from '../../store/schema/distribution.ts';
import { distributionEvent } from './events.ts';

/** Takes the site's lock for `distributionId` or throws a 409 naming the distribution holding it. */
export async function takeLock(ctx: ServiceContext, siteId: string, distributionId: string, ttlSeconds: number): Promise<void> {
  const now = ctx.now();
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const [taken] = await ctx.db
    .insert(distributionLocks)
    .values({ siteId, orgId: ctx.orgId, distributionId, acquiredAt: now, expiresAt })
    .onConflictDoUpdate({
      target: distributionLocks.siteId,
      set: { distributionId, orgId: ctx.orgId, acquiredAt: now, expiresAt },
      setWhere: lte(distributionLocks.expiresAt, now),
    })
    .returning({ distributionId: distributionLocks.distributionId });
  if (taken?.distributionId === distributionId) return;
  const [holder] = await ctx.db
    .select({ distributionId: distributionLocks.distributionId, expiresAt: distributionLocks.expiresAt })
    .from(distributionLocks)
    .where(eq(distributionLocks.siteId, siteId));
  throw new ConflictError(
    `distribution ${holder?.distributionId ?? '(unknown)'} is running at this site (its lock expires ${holder?.expiresAt.toISOString() ?? 'soon'}); one distribution per site at a time`,
    'site_id',
  );
}

/** Pushes the expiry out again; false when the lock is no longer this distribution's (expired and taken). */
export async function renewLock(ctx: ServiceContext, siteId: string, distributionId: string, ttlSeconds: number): Promise<boolean> {
  const expiresAt = new Date(ctx.now().getTime() + ttlSeconds * 1000);
  const renewed = await ctx.db
    .update(distributionLocks)
    .set({ expiresAt })
    .where(and(eq(distributionLocks.siteId, siteId), eq(distributionLocks.distributionId, distributionId)))
    .returning({ siteId: distributionLocks.siteId });
  return renewed.length > 0;
}

export async function releaseLock(ctx: ServiceContext, siteId: string, distributionId: string): Promise<void> {
  await ctx.db
    .delete(distributionLocks)
    .where(and(eq(distributionLocks.siteId, siteId), eq(distributionLocks.distributionId, distributionId)));
}

/**
 * Deletes every expired lock; a distribution still `running` or `rolling_back` under one is failed with code
 * `lock_expired` (its worker stopped: what it wrote is in its steps, and a rollback can undo it). Returns the
 * distributions whose locks were removed.
 */
export async function cleanupDistributionLocks(deps: { db: Db; events: EventBus | null }, now: Date = new Date()): Promise<string[]> {
  const { ids, events } = await deps.db.transaction(async (tx) => {
    const expired = await tx.delete(distributionLocks).where(lte(distributionLocks.expiresAt, now)).returning();
    const ids = expired.map((lock) => lock.distributionId);
    if (ids.length === 0) return { ids, events: [] };
    const stopped = await tx
      .update(distributions)
      .set({
        status: 'failed',
        error: sql`jsonb_build_object('code', 'lock_expired', 'message', ${'The distribution stopped holding its site lock (its worker stopped or ran past distribution_lock_ttl_seconds); its steps show what was written, and a rollback undoes it.'}::text)`,
        finishedAt: now,
        updatedAt: now,
      })
      .where(and(inArray(distributions.id, ids), inArray(distributions.status, ['running', 'rolling_back'])))
      .returning();
    for (const row of stopped) {
      await record(tx, {
        orgId: row.orgId,
        actor: SYSTEM_ACTOR,
        action: 'distribution.lock_expired',
        targetType: 'distribution',
        targetId: row.id,
        siteId: row.siteId,
        after: { status: row.status, error: row.error },
        outcome: 'failure',
      });
    }
    return { ids, events: await storeEvents(tx, stopped.map((row) => distributionEvent(row, 'distribution.failed'))) };
  });
  deps.events?.emit(events);
  return ids;
}
