/**
 * @module Access events: grant created / ended, sync failed / recovered. Each is written to the `events`
 * outbox (for later webhook delivery) in the transaction that causes it, and emitted on the in-process bus
 * once that transaction has committed (docs/adr/0093-access-events-outbox.md).
 */
import { EventEmitter } from 'node:events';
import type { Db } from '../../store/db.ts';
import { events } from '../../store/schema/events.ts';

export type AccessEventType = 'grant.created' | 'grant.ended' | 'sync.failed' | 'sync.recovered';

export interface AccessEvent {
  type: AccessEventType;
  orgId: string;
  siteId: string | null;
  knocId: string | null;
  grantId: string | null;
  /** Safe to deliver outside: ids, addresses, codes and times; never a credential. */
  payload: Record<string, unknown>;
}

/** Typed in-process bus; listeners get every event after it is stored. */
export class AccessEventBus {
  private readonly emitter = new EventEmitter();

  on(listener: (event: AccessEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  emit(list: readonly AccessEvent[]): void {
    for (const event of list) this.emitter.emit('event', event);
  }
}

/** Appends events to the outbox on `db` (pass the transaction of the change). */
export async function storeEvents(db: Db, list: readonly AccessEvent[]): Promise<void> {
  if (list.length === 0) return;
  await db.insert(events).values(
    list.map((event) => ({
      orgId: event.orgId,
      type: event.type,
      siteId: event.siteId,
      knocId: event.knocId,
      grantId: event.grantId,
      payload: JSON.parse(JSON.stringify(event.payload)) as Record<string, unknown>,
    })),
  );
}
