/**
 * @module Passive mode: the external dynamic list (EDL) a firewall polls instead of being pushed to. Pure
 * rendering of the desired set, feed tokens and keys, and the access decision for one fetch
 * (docs/adr/0075-edl-feed.md).
 *
 * The feed lives at `/edl/<token>` (`.txt`: one address per line; `.json`), and is protected by a feed key sent
 * as `X-API-Key` or `?key=`, plus the feed's own allowed source ranges. Only the key's SHA-256 is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DesiredEntry } from './desired-set.ts';
import { checkSource, type SourceConditions } from './source-conditions.ts';

/** An unguessable path token: 32 random bytes, base64url (43 characters). */
export function newFeedToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A feed key: 32 random bytes, hex. Shown once; only `hashFeedKey(key)` is stored. */
export function newFeedKey(): string {
  return randomBytes(32).toString('hex');
}

export function hashFeedKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Text form: one address per line, LF-terminated; an empty list is an empty body. */
export function renderEdlText(desired: readonly DesiredEntry[]): string {
  return desired.map((entry) => `${entry.ip}\n`).join('');
}

interface EdlJson {
  addresses: string[];
  count: number;
  generated_at: string;
}

/** JSON form. Grant ids are not exposed: the feed is read by a firewall, not by an admin. */
export function renderEdlJson(desired: readonly DesiredEntry[], generatedAt: Date): EdlJson {
  const addresses = desired.map((entry) => entry.ip);
  return { addresses, count: addresses.length, generated_at: generatedAt.toISOString() };
}

export interface FeedFetch {
  /** `X-API-Key` header value (first one when repeated). */
  headerKey?: string | readonly string[] | undefined;
  /** `?key=` query value. */
  queryKey?: string | readonly string[] | undefined;
  /** Client address (see `resolveClientAddress`). */
  clientIp: string;
}

type FeedDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

const first = (value: string | readonly string[] | undefined): string | undefined =>
  typeof value === 'string' ? value : value?.[0];

/**
 * Decides one fetch: a source outside the feed's allowed ranges is 403 (checked first, so a disallowed
 * source learns nothing about keys); a missing or wrong key is 401. The key is compared by hash in constant
 * time. Reasons are safe to log and never contain the presented key.
 */
export function checkFeedAccess(fetch: FeedFetch, keyHash: string, sources: SourceConditions): FeedDecision {
  const source = checkSource(fetch.clientIp, sources);
  if (!source.ok)
    return {
      ok: false,
      status: 403,
      reason: `source ${fetch.clientIp} is not allowed to fetch this feed (${source.reason})`,
    };
  const key = first(fetch.headerKey) ?? first(fetch.queryKey);
  if (key === undefined || key === '')
    return { ok: false, status: 401, reason: 'no feed key (X-API-Key header or key query parameter)' };
  const presented = Buffer.from(hashFeedKey(key), 'hex');
  const stored = Buffer.from(keyHash, 'hex');
  if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) {
    return { ok: false, status: 401, reason: 'wrong feed key' };
  }
  return { ok: true };
}
