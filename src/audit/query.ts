/**
 * @module Reading the audit log with filters and keyset paging (newest first; `cursor` is the last id seen).
 */
import { and, desc, eq, gte, inArray, like, lt, lte, type SQL } from 'drizzle-orm';
import { ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { auditLog } from '../store/schema/audit.ts';
import type { ActorType, AuditOutcome } from './record.ts';

export interface AuditFilters {
  actorId?: string;
  actorType?: ActorType;
  /** Exact action (`user.create`) or a prefix ending in `.*` (`user.*`). */
  action?: string;
  targetType?: string;
  targetId?: string;
  siteId?: string;
  /** Only entries for these sites (site-limited viewers); entries without a site are excluded. */
  siteIds?: readonly string[];
  outcome?: AuditOutcome;
  from?: Date;
  to?: Date;
  /** Return entries older than this id (the previous page's `nextCursor`). */
  cursor?: number;
  /** 1–500, default 50. */
  limit?: number;
}

export interface AuditRow {
  id: number;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  siteId: string | null;
  before: unknown;
  after: unknown;
  sourceIp: string | null;
  requestId: string | null;
  outcome: string;
  createdAt: Date;
}

export interface AuditPage {
  items: AuditRow[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: number | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OUTCOMES: readonly string[] = ['success', 'failure', 'denied'];
const ACTOR_TYPES: readonly string[] = ['user', 'token', 'system', 'anonymous'];

export async function query(db: Db, orgId: string, filters: AuditFilters = {}): Promise<AuditPage> {
  const limit = filters.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new ValidationError('limit', 'limit must be an integer from 1 to 500');
  }
  const where: SQL[] = [eq(auditLog.orgId, orgId)];
  if (filters.actorId !== undefined) where.push(eq(auditLog.actorId, filters.actorId));
  if (filters.actorType !== undefined) {
    if (!ACTOR_TYPES.includes(filters.actorType)) {
      throw new ValidationError('actor_type', `actor_type must be one of ${ACTOR_TYPES.join(', ')}`);
    }
    where.push(eq(auditLog.actorType, filters.actorType));
  }
  if (filters.action !== undefined) {
    if (filters.action.endsWith('.*')) {
      const prefix = filters.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
      where.push(like(auditLog.action, `${prefix}%`));
    } else {
      where.push(eq(auditLog.action, filters.action));
    }
  }
  if (filters.targetType !== undefined) where.push(eq(auditLog.targetType, filters.targetType));
  if (filters.targetId !== undefined) where.push(eq(auditLog.targetId, filters.targetId));
  if (filters.siteId !== undefined) {
    if (!UUID.test(filters.siteId)) throw new ValidationError('site_id', 'site_id must be a UUID');
    where.push(eq(auditLog.siteId, filters.siteId));
  }
  if (filters.siteIds !== undefined) {
    filters.siteIds.forEach((id, i) => {
      if (!UUID.test(id)) throw new ValidationError(`site_ids.${i}`, 'site ids must be UUIDs');
    });
    if (filters.siteIds.length === 0) return { items: [], nextCursor: null };
    where.push(inArray(auditLog.siteId, [...filters.siteIds]));
  }
  if (filters.outcome !== undefined) {
    if (!OUTCOMES.includes(filters.outcome)) {
      throw new ValidationError('outcome', `outcome must be one of ${OUTCOMES.join(', ')}`);
    }
    where.push(eq(auditLog.outcome, filters.outcome));
  }
  if (filters.from !== undefined) where.push(gte(auditLog.createdAt, validDate('from', filters.from)));
  if (filters.to !== undefined) where.push(lte(auditLog.createdAt, validDate('to', filters.to)));
  if (filters.from && filters.to && filters.from > filters.to) {
    throw new ValidationError('from', 'from must not be after to');
  }
  if (filters.cursor !== undefined) {
    if (!Number.isSafeInteger(filters.cursor) || filters.cursor < 1) {
      throw new ValidationError('cursor', 'cursor must be a positive integer from a previous page');
    }
    where.push(lt(auditLog.id, filters.cursor));
  }
  const rows = await db
    .select({
      id: auditLog.id,
      actorType: auditLog.actorType,
      actorId: auditLog.actorId,
      actorName: auditLog.actorName,
      action: auditLog.action,
      targetType: auditLog.targetType,
      targetId: auditLog.targetId,
      siteId: auditLog.siteId,
      before: auditLog.before,
      after: auditLog.after,
      sourceIp: auditLog.sourceIp,
      requestId: auditLog.requestId,
      outcome: auditLog.outcome,
      createdAt: auditLog.createdAt,
    })
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? last.id : null };
}

function validDate(field: string, value: Date): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(field, `${field} must be a valid date-time`);
  }
  return value;
}
