/**
 * @module Access events: grant created / ended, sync failed / recovered. They travel on the shared event bus
 * and outbox of src/events (docs/adr/0093-access-events-outbox.md, ADR 0121): written to the `events` outbox in
 * the transaction that causes them and emitted once that transaction has committed.
 */
import type { BusEvent } from '../../events/types.ts';

export { EventBus as AccessEventBus, storeEvents } from '../../events/bus.ts';

type AccessEventType =
  | 'grant.created'
  | 'grant.ended'
  | 'sync.failed'
  | 'sync.recovered'
  | 'access.request.created'
  | 'access.request.approved'
  | 'access.request.denied'
  | 'access.request.expired';

export interface AccessEvent extends BusEvent<AccessEventType> {
  knocId: string | null;
  grantId: string | null;
}
