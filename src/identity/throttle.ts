/**
 * @module Sign-in throttling, kept in the store (`login_throttle`) so every node of a cluster shares it and a
 * restart does not reset it. Fixed windows: once a key has `limit` failures inside `windowSeconds` of its first
 * failure, sign-in attempts for it are refused until the window ends. Keys are per user (`user:<org>:<name>`,
 * for existing and unknown names alike) and per source IP (`ip:<address>`). A success clears the user key only,
 * so one account's owner cannot reset an attacker's per-IP budget.
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

/** Throws `RateLimitedError` when any key has used up its budget in the current window. */
export async function assertNotThrottled(
  db: Db,
  keys: { key: string; limit: number }[],
  limits: ThrottleLimits,
  now: Date,
): Promise<void> {
  if (keys.length === 0) return;
  const rows = await db
    .select()
    .from(loginThrottle)
    .where(
      inArray(
        loginThrottle.key,
        keys.map((k) => k.key),
      ),
    );
  let retryAfter = 0;
  for (const row of rows) {
    const limit = keys.find((k) => k.key === row.key)?.limit ?? Number.POSITIVE_INFINITY;
    const windowEnds = row.windowStartedAt.getTime() + limits.windowSeconds * 1000;
    if (windowEnds > now.getTime() && row.failures >= limit) {
      retryAfter = Math.max(retryAfter, Math.ceil((windowEnds - now.getTime()) / 1000));
    }
  }
  if (retryAfter > 0) {
    throw new RateLimitedError(`Too many failed sign-in attempts; try again in ${retryAfter} s`, retryAfter);
  }
}

/** Counts one failure against each key, starting a new window where the previous one has ended. */
export async function recordFailure(
  db: Db,
  keys: string[],
  limits: ThrottleLimits,
  now: Date,
): Promise<void> {
  const windowStart = sql`${new Date(now.getTime() - limits.windowSeconds * 1000).toISOString()}::timestamptz`;
  const at = sql`${now.toISOString()}::timestamptz`;
  for (const key of keys) {
    await db
      .insert(loginThrottle)
      .values({ key, failures: 1, windowStartedAt: now })
      .onConflictDoUpdate({
        target: loginThrottle.key,
        set: {
          failures: sql`case when ${loginThrottle.windowStartedAt} <= ${windowStart} then 1 else ${loginThrottle.failures} + 1 end`,
          windowStartedAt: sql`case when ${loginThrottle.windowStartedAt} <= ${windowStart} then ${at} else ${loginThrottle.windowStartedAt} end`,
        },
      });
  }
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.delete(loginThrottle).where(inArray(loginThrottle.key, [key]));
}
