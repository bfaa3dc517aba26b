/**
 * @module The desired set of one (gateway, alias): which addresses must be on the alias right now, and which
 * grants each address serves. Pure: no clock, no I/O — the caller passes `now`.
 *
 * An address shared by several grants (two users behind one NAT) appears once and stays until its last live
 * grant ends (docs/adr/0071-alias-reconciliation.md).
 */
import { canonicalAddress } from '../net/client-ip.ts';

/** The part of a grant the desired set needs. Times are epoch milliseconds. */
export interface GrantSnapshot {
  id: string;
  /** Source address as text (IPv4 or IPv6; a v4-mapped IPv6 address counts as its IPv4 form). */
  ip: string;
  expiresAt: number;
  /** When the grant ended (logout, revoke, replace); absent while it runs. */
  endedAt?: number | null;
}

/** One address to keep on the alias, with the live grants it serves (sorted, never empty). */
export interface DesiredEntry {
  /** Canonical address text (RFC 5952 for IPv6). */
  ip: string;
  grantIds: string[];
  /** When the last of those grants expires (epoch ms): the native-expiry deadline of the entry. */
  expiresAt?: number;
}

/** Whether a grant is live at `now`: not ended and not yet expired (expiry is exclusive: at `expiresAt` it is gone). */
export function isGrantLive(grant: GrantSnapshot, now: number): boolean {
  return (grant.endedAt === undefined || grant.endedAt === null) && grant.expiresAt > now;
}

/** Canonical text of a grant address; throws on an address that is not an IP (grants are validated on entry). */
function canonicalGrantIp(text: string): string {
  const ip = canonicalAddress(text);
  if (ip === null) throw new TypeError(`grant address ${JSON.stringify(text)} is not an IP address`);
  return ip;
}

/**
 * The desired set at `now`: one entry per distinct live address, in the order the addresses first appear among
 * the live grants of the input, each with its grant ids sorted. Ended and expired grants contribute nothing.
 * Empty input gives an empty set.
 */
export function computeDesiredSet(grants: Iterable<GrantSnapshot>, now: number): DesiredEntry[] {
  const byIp = new Map<string, { grantIds: string[]; expiresAt: number }>();
  for (const grant of grants) {
    if (!isGrantLive(grant, now)) continue;
    const ip = canonicalGrantIp(grant.ip);
    const entry = byIp.get(ip);
    if (entry === undefined) byIp.set(ip, { grantIds: [grant.id], expiresAt: grant.expiresAt });
    else {
      entry.grantIds.push(grant.id);
      entry.expiresAt = Math.max(entry.expiresAt, grant.expiresAt);
    }
  }
  return [...byIp].map(([ip, { grantIds, expiresAt }]) => ({ ip, grantIds: grantIds.sort(), expiresAt }));
}
