/** @module Reading stored events back from the outbox (a reconnecting SSE client's missed events). */
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { events } from '../store/schema/events.ts';
import { type EventType, isEventType, type StoredEvent } from './types.ts';

/** Up to `limit` events of the org with an id above `afterId`, oldest first. */
export async function replayEvents(db: Db, orgId: string, afterId: number, limit: number): Promise<StoredEvent[]> {
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.orgId, orgId), gt(events.id, afterId)))
    .orderBy(asc(events.id))
    .limit(limit);
  return rows
    .filter((row) => isEventType(row.type))
    .map((row) => ({
      id: row.id,
      type: row.type as EventType,
      orgId: row.orgId,
      siteId: row.siteId,
      knocId: row.knocId,
      grantId: row.grantId,
      gatewayId: row.gatewayId,
      payload: row.payload as Record<string, unknown>,
      createdAt: row.createdAt,
    }));
}
