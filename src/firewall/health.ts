/**
 * @module Gateway health and sync state, and the events their transitions raise (FreeSDN: "events are emitted
 * on state transitions only"; docs/events.md). The health poll and the sync job report what they observed;
 * these functions compare it with what the gateway row holds, store the new state and the transition events in
 * one transaction, and emit the events on the bus after the commit. Observing the same state again emits
 * nothing.
 *
 * | Before → now | Event |
 * |---|---|
 * | online (or never polled) → unreachable | `firewall.event.gateway_unreachable`, and `gateway.brain.offline` when it is its site's brain |
 * | unreachable → online | `firewall.event.gateway_online` |
 * | WAN up (or unknown) → down | `firewall.event.wan_down` |
 * | WAN down → up | `firewall.event.wan_up` |
 * | sync never / failed → ok | `gateway.sync.completed` |
 * | sync never / ok → failed | `gateway.sync.failed` |
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { LiveGateway } from '../adapters/live.ts';
import { DeviceError, NotFoundError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { storeEvents } from '../events/bus.ts';
import type { BusEvent, StoredEvent } from '../events/types.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { gateways } from '../store/schema/access.ts';
import { orchestrationTopologyMembers } from '../store/schema/orchestration.ts';

interface HealthObservation {
  online: boolean;
  /** WAN gateways by name → up (the device's gateway status), when the poll could read them. */
  wan?: Record<string, boolean>;
}

interface StoredHealth {
  wan?: Record<string, boolean>;
}

async function lockGateway(ctx: ServiceContext, gatewayId: string) {
  const [row] = await ctx.db
    .select({
      id: gateways.id,
      siteId: gateways.siteId,
      name: gateways.name,
      isOnline: gateways.isOnline,
      health: gateways.health,
      syncStatus: gateways.syncStatus,
    })
    .from(gateways)
    .where(and(eq(gateways.orgId, ctx.orgId), eq(gateways.id, gatewayId), isNull(gateways.deletedAt)))
    .for('update');
  if (!row) throw new NotFoundError('gateway', gatewayId);
  return row;
}

async function commitAndEmit(
  ctx: ServiceContext,
  bus: EventBus | null,
  work: (tx: ServiceContext) => Promise<BusEvent[]>,
): Promise<StoredEvent[]> {
  const stored = await inTransaction(ctx, async (tx) => storeEvents(tx.db, await work(tx)));
  bus?.emit(stored);
  return stored;
}

/** Stores a health observation of a gateway; returns (and emits) the transition events. */
export function recordGatewayHealth(
  ctx: ServiceContext,
  bus: EventBus | null,
  gatewayId: string,
  observed: HealthObservation,
): Promise<StoredEvent[]> {
  return commitAndEmit(ctx, bus, async (tx) => {
    const gw = await lockGateway(tx, gatewayId);
    const base = { orgId: tx.orgId, siteId: gw.siteId, gatewayId: gw.id };
    const list: BusEvent[] = [];
    const at = tx.now().toISOString();
    if (observed.online && gw.isOnline === false) {
      list.push({ ...base, type: 'firewall.event.gateway_online', payload: { gateway: gw.name, at } });
    } else if (!observed.online && gw.isOnline !== false) {
      list.push({ ...base, type: 'firewall.event.gateway_unreachable', payload: { gateway: gw.name, at } });
      // The site's L3 authority gone: every VLAN, DHCP scope and DNS record of the site is unserved (ADR 0277).
      const [brain] = await tx.db
        .select({ siteId: orchestrationTopologyMembers.siteId })
        .from(orchestrationTopologyMembers)
        .where(and(eq(orchestrationTopologyMembers.gatewayId, gw.id), eq(orchestrationTopologyMembers.role, 'brain')))
        .limit(1);
      if (brain) {
        list.push({ ...base, siteId: brain.siteId, type: 'gateway.brain.offline', payload: { gateway: gw.name, site_id: brain.siteId, at } });
      }
    }
    const previousWan = (gw.health as StoredHealth | null)?.wan ?? {};
    const wan = observed.wan ?? previousWan;
    for (const [name, up] of Object.entries(observed.wan ?? {}).sort()) {
      const before = previousWan[name];
      if (!up && before !== false) {
        list.push({ ...base, type: 'firewall.event.wan_down', payload: { gateway: gw.name, wan: name, at } });
      } else if (up && before === false) {
        list.push({ ...base, type: 'firewall.event.wan_up', payload: { gateway: gw.name, wan: name, at } });
      }
    }
    await tx.db
      .update(gateways)
      .set({
        isOnline: observed.online,
        health: { wan },
        ...(observed.online ? { lastSeenAt: tx.now() } : {}),
      })
      .where(eq(gateways.id, gw.id));
    return list;
  });
}

type SyncOutcome = { ok: true } | { ok: false; code: string; message: string };

/** Stores the outcome of a sync run; returns (and emits) the transition events. */
export function recordSyncOutcome(
  ctx: ServiceContext,
  bus: EventBus | null,
  gatewayId: string,
  outcome: SyncOutcome,
): Promise<StoredEvent[]> {
  return commitAndEmit(ctx, bus, async (tx) => {
    const gw = await lockGateway(tx, gatewayId);
    const base = { orgId: tx.orgId, siteId: gw.siteId, gatewayId: gw.id };
    const at = tx.now().toISOString();
    const list: BusEvent[] = [];
    if (outcome.ok && gw.syncStatus !== 'ok') {
      list.push({ ...base, type: 'gateway.sync.completed', payload: { gateway: gw.name, at } });
    } else if (!outcome.ok && gw.syncStatus !== 'failed') {
      list.push({ ...base, type: 'gateway.sync.failed', payload: { gateway: gw.name, code: outcome.code, at } });
    }
    await tx.db
      .update(gateways)
      .set(
        outcome.ok
          ? { syncStatus: 'ok', lastSyncAt: tx.now(), syncErrorCode: null, syncErrorMessage: null }
          : { syncStatus: 'failed', syncErrorCode: outcome.code, syncErrorMessage: outcome.message },
      )
      .where(eq(gateways.id, gw.id));
    return list;
  });
}

/**
 * Polls a gateway's health through its live view and stores it: reachable when the device answered, each WAN
 * gateway up or down as the device monitors it. A device that cannot be reached at all is unreachable.
 */
export async function pollGatewayHealth(
  ctx: ServiceContext,
  bus: EventBus | null,
  gatewayId: string,
  live: Pick<LiveGateway, 'healthCheck'> | null,
): Promise<StoredEvent[]> {
  let observed: HealthObservation = { online: false };
  if (live !== null) {
    try {
      const health = await live.healthCheck();
      const reachable = health.checks.find((check) => check.name === 'reachability')?.healthy === true;
      observed = {
        online: reachable,
        ...(reachable && health.wan ? { wan: Object.fromEntries(health.wan.map((w) => [w.name, w.up])) } : {}),
      };
    } catch (err) {
      if (!(err instanceof DeviceError)) throw err;
    }
  }
  return recordGatewayHealth(ctx, bus, gatewayId, observed);
}
