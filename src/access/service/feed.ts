/**
 * @module Serving the EDL feed of a passive knoc (ADR 0075, ADR 0092): find the feed by its token, decide the
 * fetch (source ranges, then the key), read the live addresses, and record the fetch. The HTTP route only
 * resolves the client address and shapes the answer.
 *
 * Refused fetches are recorded at most `REFUSED_ROWS_PER_WINDOW` per knoc per window: a client hammering a
 * feed with wrong keys cannot grow `edl_fetches` without bound. The rest are counted in memory and reported
 * (`suppressed`) with the next recorded refusal of that knoc, so the log still shows the volume.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../../store/db.ts';
import { edlFetches, gateways, grants, knocs } from '../../store/schema/access.ts';
import { computeDesiredSet, type DesiredEntry } from '../desired-set.ts';
import { checkFeedAccess, type FeedFetch } from '../edl.ts';
import { compileSourceConditions } from '../source-conditions.ts';

export const REFUSED_ROWS_PER_WINDOW = 20;
const REFUSED_WINDOW_MS = 60_000;

/** Per-knoc window counts of refused fetches (bounded by the number of passive knocs). */
export class RefusedFetchLimiter {
  private readonly windows = new Map<string, { start: number; recorded: number; suppressed: number }>();

  constructor(
    private readonly perWindow = REFUSED_ROWS_PER_WINDOW,
    private readonly windowMs = REFUSED_WINDOW_MS,
  ) {}

  /** Whether this refusal gets a row; when it does, how many were left out since the last one. */
  admit(knocId: string, now: number): { record: boolean; suppressed: number } {
    let window = this.windows.get(knocId);
    if (window === undefined || now - window.start >= this.windowMs) {
      const carried = window?.suppressed ?? 0;
      window = { start: now, recorded: 0, suppressed: carried };
      this.windows.set(knocId, window);
    }
    if (window.recorded >= this.perWindow) {
      window.suppressed++;
      return { record: false, suppressed: 0 };
    }
    window.recorded++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    return { record: true, suppressed };
  }
}

export type FeedFormat = 'txt' | 'json';

type FeedResult =
  | { kind: 'not_found' }
  | {
      kind: 'refused';
      knocId: string;
      status: 401 | 403;
      reason: string;
      /** Whether a row was written (see the limiter), and the refusals left out before it. */
      recorded: boolean;
      suppressed: number;
    }
  | { kind: 'served'; knocId: string; desired: DesiredEntry[]; at: Date };

/** Decides and records one fetch of the feed `token`. */
export async function fetchFeed(
  db: Db,
  limiter: RefusedFetchLimiter,
  request: { token: string; format: FeedFormat } & FeedFetch,
  now: Date = new Date(),
): Promise<FeedResult> {
  const [knoc] = await db
    .select({
      id: knocs.id,
      orgId: knocs.orgId,
      keyHash: knocs.feedKeyHash,
      allowed: knocs.feedAllowedSources,
    })
    .from(knocs)
    .innerJoin(gateways, eq(gateways.id, knocs.gatewayId))
    .where(and(eq(knocs.feedToken, request.token), eq(knocs.mode, 'passive'), isNull(knocs.deletedAt)))
    .limit(1);
  if (!knoc || knoc.keyHash === null) return { kind: 'not_found' };
  const row = { orgId: knoc.orgId, knocId: knoc.id, sourceIp: request.clientIp, format: request.format };
  const decision = checkFeedAccess(request, knoc.keyHash, compileSourceConditions(knoc.allowed, []));
  if (!decision.ok) {
    const admitted = limiter.admit(knoc.id, now.getTime());
    if (admitted.record) {
      await db.insert(edlFetches).values({ ...row, status: decision.status, fetchedAt: now });
    }
    return {
      kind: 'refused',
      knocId: knoc.id,
      status: decision.status,
      reason: decision.reason,
      recorded: admitted.record,
      suppressed: admitted.suppressed,
    };
  }
  const rows = await db
    .select({ id: grants.id, ip: grants.ip, expiresAt: grants.expiresAt })
    .from(grants)
    .where(and(eq(grants.knocId, knoc.id), isNull(grants.endedAt), gt(grants.expiresAt, now)));
  const desired = computeDesiredSet(
    rows.map((grant) => ({ id: grant.id, ip: grant.ip, expiresAt: grant.expiresAt.getTime() })),
    now.getTime(),
  );
  await db.transaction(async (tx) => {
    await tx.insert(edlFetches).values({ ...row, status: 200, entries: desired.length, fetchedAt: now });
    await tx.update(knocs).set({ lastFetchAt: now }).where(eq(knocs.id, knoc.id));
  });
  return { kind: 'served', knocId: knoc.id, desired, at: now };
}
