/**
 * @module A knoc's sync status: the live reconciler state when it has one, else what the store remembers
 * (the last persisted outcome and the count of open grants). The HTTP layer shapes the response body.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../store/db.ts';
import { grants, type knocs } from '../../store/schema/access.ts';
import type { ReconcilerStatus } from '../reconciler.ts';

export interface KnocSyncStatus {
  desiredCount: number;
  deviceCount: number | null;
  lastSyncAt: Date | null;
  lastApplyAt: Date | null;
  pending: boolean;
  /** `since`: the first failure of the current streak (null only for a row written without one). */
  error: { code: string; message: string; since: Date | null } | null;
}

const dateOf = (value: number | null): Date | null => (value === null ? null : new Date(value));

export async function knocSyncStatus(
  db: Db,
  knoc: typeof knocs.$inferSelect,
  live: ReconcilerStatus | undefined,
): Promise<KnocSyncStatus> {
  const persistedError =
    knoc.syncErrorCode === null
      ? null
      : {
          code: knoc.syncErrorCode,
          message: knoc.syncErrorMessage ?? '',
          since: knoc.syncErrorSince,
        };
  if (live !== undefined) {
    return {
      desiredCount: live.desiredCount,
      deviceCount: live.deviceCount ?? knoc.deviceCount,
      lastSyncAt: dateOf(live.lastSyncAt) ?? knoc.lastSyncAt,
      lastApplyAt: dateOf(live.lastApplyAt) ?? knoc.lastApplyAt,
      pending: live.pending,
      error:
        live.error === null
          ? null
          : { code: live.error.code, message: live.error.message, since: new Date(live.error.since) },
    };
  }
  const [count] = await db
    .select({ n: sql<number>`count(distinct ${grants.ip})::int` })
    .from(grants)
    .where(and(eq(grants.knocId, knoc.id), isNull(grants.endedAt), gt(grants.expiresAt, new Date())));
  return {
    desiredCount: count?.n ?? 0,
    deviceCount: knoc.mode === 'active' ? knoc.deviceCount : null,
    lastSyncAt: knoc.lastSyncAt,
    lastApplyAt: knoc.lastApplyAt,
    pending: false,
    error: persistedError,
  };
}
