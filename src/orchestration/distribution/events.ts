/** @module The bus events of the distribution engine (src/events/types.ts): ids, tags and status only. */
import type { BusEvent } from '../../events/types.ts';
import type { DistributionRow } from './store.ts';

export type DistributionEventType = 'distribution.completed' | 'distribution.failed' | 'distribution.rolled_back';

export function distributionEvent(row: DistributionRow, type: DistributionEventType): BusEvent {
  const error = row.error as { code?: string } | null;
  return {
    type,
    orgId: row.orgId,
    siteId: row.siteId,
    payload: {
      distribution_id: row.id,
      canonical_vlan_id: row.canonicalVlanId,
      vlan_tag: row.vlanTag,
      status: row.status,
      attempt: row.attempt,
      error_code: error?.code ?? null,
    },
  };
}
