/**
 * @module Sign-in throttling, kept in the store (`login_throttle`) so every node of a cluster shares it and a
 * restart does not reset it. Every attempt is counted before its password is hashed, atomically, so a burst
 * of parallel guesses cannot all pass the check before any is counted. Fixed windows: once a key has had
 * `limit` attempts inside `windowSeconds` of its first, further attempts are refused until the window ends.
 * Keys are per user (`user:<org>:<name>`, for existing and unknown names alike) and per source IP
 * (`ip:<address>`). A success clears the user key and takes its own attempt back from the IP key, so one
 * account's owner cannot reset an attacker's per-IP budget, and good sign-ins never use it up.
 */
import { inArray, sql } from 'drizzle-orm';
import { RateLimitedError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { loginThrottle } from '../store/schema/identity.ts';

export interface ThrottleLimits {
  perUser: number;
  perIp: number;
  windowSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { perUser: 5, perIp: 20, windowSeconds: 15 * 60 };

export function userKey(orgId: string, username: string): string {
  return `user:${orgId}:${username.toLowerCase()}`;
}

export function ipKey(sourceIp: string): string {
  return `ip:${sourceIp}`;
}

/**
 * Counts this attempt against every key before the password is checked — one atomic upsert per key, so
 * parallel attempts each see their own number — and throws `RateLimitedError` when any key is past its
 * budget in the current window. A refused attempt still counts (the window does not move). A window that has
 * ended starts afresh with this attempt.
 */
export async function claimAttempt(
  db: Db,
  keys: { key: string; limit: number }[],
  limits: ThrottleLimits,
  now: Date,
): Promise<void> {
  const windowStart = sql`${new Date(now.getTime() - limits.windowSeconds * 1000).toISOString()}::timestamptz`;
  const at = sql`${now.toISOString()}::timestamptz`;
  let retryAfter = 0;
  for (const { key, limit } of keys) {
    const [row] = await db
      .insert(loginThrottle)
      .values({ key, failures: 1, windowStartedAt: now })
      .onConflictDoUpdate({
        target: loginThrottle.key,
        set: {
          failures: sql`case when ${loginThrottle.windowStartedAt} <= ${windowStart} then 1 else ${loginThrottle.failures} + 1 end`,
          windowStartedAt: sql`case when ${loginThrottle.windowStartedAt} <= ${windowStart} then ${at} else ${loginThrottle.windowStartedAt} end`,
        },
      })
      .returning({ failures: loginThrottle.failures, windowStartedAt: loginThrottle.windowStartedAt });
    if (row && row.failures > limit) {
      const windowEnds = row.windowStartedAt.getTime() + limits.windowSeconds * 1000;
      retryAfter = Math.max(retryAfter, Math.ceil((windowEnds - now.getTime()) / 1000), 1);
    }
  }
  if (retryAfter > 0) {
    throw new RateLimitedError(`Too many failed sign-in attempts; try again in ${retryAfter} s`, retryAfter);
  }
}

/** Takes back one claimed attempt from each key (it turned out not to be a failure). */
export async function releaseAttempt(db: Db, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db
    .update(loginThrottle)
    .set({ failures: sql`greatest(${loginThrottle.failures} - 1, 0)` })
    .where(inArray(loginThrottle.key, keys));
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.delete(loginThrottle).where(inArray(loginThrottle.key, [key]));
}
