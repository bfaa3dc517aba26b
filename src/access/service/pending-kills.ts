/**
 * @module Housekeeping of `access_pending_kills` (ADR 0222, ADR 0289): a stored kill is done by the reconciler of
 * its (gateway, alias). Once no active knoc uses that pair any more (knocs deleted, moved to another alias or
 * gateway, switched out of active mode; the gateway deleted), no reconciler will ever run for it, so its kills
 * can never be done and the rows would stay forever. They are deleted here.
 */
import type { Store } from '../../store/db.ts';

/** Deletes the pending kills of (gateway, alias) pairs that no active knoc on a live gateway uses; returns how many. */
export async function pruneOrphanedPendingKills(store: Store): Promise<number> {
  const rows = await store.query<{ n: number }>(
    `with gone as (
       delete from access_pending_kills p
       where not exists (
         select 1 from knocs k join gateways g on g.id = k.gateway_id
         where k.gateway_id = p.gateway_id and k.alias_name = p.alias_name
           and k.mode = 'active' and k.deleted_at is null and g.deleted_at is null)
       returning 1)
     select count(*)::int as n from gone`,
  );
  return rows[0]?.n ?? 0;
}
