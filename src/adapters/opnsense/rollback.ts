/**
 * @module The rollback truth table (docs/adr/0187-opnsense-rollback-truth.md; docs/reference/opnsense-api.md §4):
 * whether the firmware's timed filter revert (savepoint → apply/<rev> → cancel_rollback/<rev>) really protects a
 * rule change, from the firmware version.
 *
 * - before 24.1: the endpoints belong to the os-firewall plugin, not core: not relied on;
 * - 24.1 … 25.7.x: core ships them and the revert fires: `device`;
 * - 26.1.x: the savepoint revision is rounded to 2 decimals while the backup file carries more, so the timer never
 *   finds its backup and nothing is restored (opnsense/core#10721, closed unfixed): `none`;
 * - 26.7 and later: the endpoints are removed (opnsense/core commit 17b84612eb): `none`.
 * Where the answer is `none`, Portcullis never claims a safety net; its own verified restore (before-image →
 * write → apply → read back → restore on mismatch, the pending-change engine over the LiveWriter) is the only one.
 */

export type RollbackKind = 'device' | 'none';

export interface RollbackTruth {
  kind: RollbackKind;
  /** Why, for version() and the docs. */
  reason: string;
}

/** `26.1.11`, `OPNsense 24.7.3_1-amd64`, `27.1.a` → [major, minor] or null. */
export function parseSeries(version: string): [number, number] | null {
  const m = /(\d{2})\.(\d{1,2})/.exec(version);
  if (m === null) return null;
  return [Number(m[1]), Number(m[2])];
}

export function rollbackTruth(version: string): RollbackTruth {
  const series = parseSeries(version);
  if (series === null) {
    return { kind: 'none', reason: `firmware version \`${version}\` not recognised: no device rollback is assumed` };
  }
  const [major, minor] = series;
  const n = major * 100 + minor;
  if (n < 2401) {
    return {
      kind: 'none',
      reason: `OPNsense ${major}.${minor} has the filter savepoint only in the os-firewall plugin: not relied on`,
    };
  }
  if (n < 2601) {
    return {
      kind: 'device',
      reason: `OPNsense ${major}.${minor}: savepoint → apply/<revision> → cancel_rollback reverts the filter rules (and source NAT) after 60 s unless cancelled`,
    };
  }
  if (n < 2607) {
    return {
      kind: 'none',
      reason: `OPNsense ${major}.${minor}: the savepoint revision is rounded and never matches its backup, so the timed revert never fires (opnsense/core#10721)`,
    };
  }
  return {
    kind: 'none',
    reason: `OPNsense ${major}.${minor}: the savepoint, cancel_rollback and revert endpoints were removed (opnsense/core 17b84612eb)`,
  };
}
