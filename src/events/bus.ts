/**
 * @module The one in-process event bus and its outbox (ADR 0093, generalised in ADR 0121). Every module (access,
 * firewall) writes its events to the `events` table in the transaction that causes them (`storeEvents`, which
 * returns them with their outbox ids) and emits them here once that transaction has committed. Listeners (the
 * SSE stream, the webhook dispatcher) are called synchronously and must not block: each one only queues work.
 */
import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.ts';
import { events } from '../store/schema/events.ts';
import type { BusEvent, StoredEvent } from './types.ts';

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open SSE stream: no fixed bound applies.
    this.emitter.setMaxListeners(0);
  }

  on(listener: (event: StoredEvent) => void): () => void {
    const safe = (event: StoredEvent) => {
      // A failing listener must not stop the others or the emitter (the change it reports has committed).
      try {
        listener(event);
      } catch {
        /* the listener's own problem; it logs what it needs */
      }
    };
    this.emitter.on('event', safe);
    return () => this.emitter.off('event', safe);
  }

  emit(list: readonly BusEvent[]): void {
    for (const event of list) this.emitter.emit('event', withOutboxFields(event));
  }
}

/** Events emitted without having been stored (tests) still carry an id and a time. */
function withOutboxFields(event: BusEvent): StoredEvent {
  const stored = event as Partial<StoredEvent>;
  return { ...event, id: stored.id ?? 0, createdAt: stored.createdAt ?? new Date() };
}

/**
 * Appends events to the outbox on `db` (pass the transaction of the change). Each event object is stamped with
 * its outbox `id` and `createdAt`, so emitting the same objects after the commit carries them.
 */
export async function storeEvents<E extends BusEvent>(
  db: Db,
  list: readonly E[],
): Promise<Array<E & StoredEvent>> {
  if (list.length === 0) return [];
  const rows = await db
    .insert(events)
    .values(
      list.map((event) => ({
        orgId: event.orgId,
        type: event.type,
        siteId: event.siteId,
        knocId: event.knocId ?? null,
        grantId: event.grantId ?? null,
        gatewayId: event.gatewayId ?? null,
        payload: JSON.parse(JSON.stringify(event.payload)) as Record<string, unknown>,
      })),
    )
    .returning({ id: events.id, createdAt: events.createdAt });
  return list.map((event, i) => Object.assign(event, rows[i] as { id: number; createdAt: Date }));
}
