/**
 * @module Grants: one (user, knoc, source IP) with its lifetime, how it was made and how it ended, kept after
 * it ends (docs/product.md §1, docs/adr/0091-grants-and-sync-state.md).
 *
 * Every change runs in one transaction with its audit entries and outbox events; after the commit the
 * `GrantNotifier` (the access runtime) tracks expiries, pokes the reconcilers and emits the events. The
 * store's `expires_at` is authoritative at read: a grant past it is reported expired even before the
 * runtime has written `ended_at`.
 */
import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import { type Actor, record, recordAll } from '../../audit/record.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { isUuid, requireIdOrNotFound } from '../../core/validate.ts';
import { canonicalAddress } from '../../net/client-ip.ts';
import type { Db } from '../../store/db.ts';
import { gateways, grants, knocs } from '../../store/schema/access.ts';
import { users } from '../../store/schema/identity.ts';
import {
  checkGrantSource,
  extendedExpiry,
  type KnocGrantPolicy,
  resolveTtlSeconds,
} from '../grant-policy.ts';
import { compileSourceConditions } from '../source-conditions.ts';
import { type AccessEvent, storeEvents } from './events.ts';

/** `approval`: made by the final approval of an access request (src/access/service/requests.ts). */
export type GrantMethod = 'login' | 'click' | 'admin' | 'client' | 'approval';
type EndReason = 'logout' | 'revoked' | 'expired' | 'replaced';
type SyncState = 'pending' | 'live' | 'removed' | 'failed';

export type GrantRow = typeof grants.$inferSelect;

/** What the runtime needs after a commit. */
export interface GrantChange {
  created: GrantRow[];
  ended: GrantRow[];
  events: AccessEvent[];
}

export interface GrantNotifier {
  /** Tracks expiries, pokes the reconcilers and emits the events of a committed change. */
  grantsChanged(change: GrantChange): Promise<void>;
}

interface GrantView {
  id: string;
  knocId: string;
  knocName: string;
  siteId: string;
  userId: string | null;
  username: string | null;
  ip: string;
  method: GrantMethod;
  reason: string | null;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  endReason: EndReason | null;
  /** `live` until it ends or `expires_at` passes, then `ended`. */
  status: 'live' | 'ended';
  syncState: SyncState;
  secondsLeft: number;
}

/** The knoc fields grant decisions need, from a live knoc on a live gateway. */
export interface GrantKnoc extends KnocGrantPolicy {
  orgId: string;
  siteId: string;
  mode: string;
  /** What a grant on the knoc needs besides entitlement (docs/access-requests.md). */
  requires: KnocRequirements;
}

export interface KnocRequirements {
  justification: boolean;
  approval: boolean;
  approverGroupId: string | null;
  approvalsRequired: number;
  requestTtlSeconds: number;
}

const KNOC_FIELDS = {
  id: knocs.id,
  orgId: knocs.orgId,
  siteId: knocs.siteId,
  name: knocs.name,
  mode: knocs.mode,
  grantTtlSeconds: knocs.grantTtlSeconds,
  maxTtlSeconds: knocs.maxTtlSeconds,
  allowedSources: knocs.allowedSources,
  deniedSources: knocs.deniedSources,
  requiresJustification: knocs.requiresJustification,
  requiresApproval: knocs.requiresApproval,
  approverGroupId: knocs.approverGroupId,
  approvalsRequired: knocs.approvalsRequired,
  requestTtlSeconds: knocs.requestTtlSeconds,
};

type KnocFields = {
  [K in keyof typeof KNOC_FIELDS]: (typeof KNOC_FIELDS)[K]['_']['notNull'] extends true
    ? (typeof KNOC_FIELDS)[K]['_']['data']
    : (typeof KNOC_FIELDS)[K]['_']['data'] | null;
};

function toGrantKnoc(row: KnocFields): GrantKnoc {
  return {
    id: row.id,
    orgId: row.orgId,
    siteId: row.siteId,
    name: row.name,
    mode: row.mode,
    grantTtlSeconds: row.grantTtlSeconds,
    maxTtlSeconds: row.maxTtlSeconds,
    sources: compileSourceConditions(row.allowedSources, row.deniedSources),
    requires: {
      justification: row.requiresJustification,
      approval: row.requiresApproval,
      approverGroupId: row.approverGroupId,
      approvalsRequired: row.approvalsRequired,
      requestTtlSeconds: row.requestTtlSeconds,
    },
  };
}

const liveKnocOnLiveGateway = (orgId: string): SQL =>
  and(eq(knocs.orgId, orgId), isNull(knocs.deletedAt), isNull(gateways.deletedAt)) as SQL;

/** Live knocs (on live gateways) matching `where`. */
export async function grantKnocs(db: Db, orgId: string, where?: SQL): Promise<GrantKnoc[]> {
  const rows = await db
    .select(KNOC_FIELDS)
    .from(knocs)
    .innerJoin(gateways, eq(gateways.id, knocs.gatewayId))
    .where(where ? and(liveKnocOnLiveGateway(orgId), where) : liveKnocOnLiveGateway(orgId))
    .orderBy(knocs.name);
  return rows.map(toGrantKnoc);
}

/** Knocs as `loadGrantKnocs` reads them: with the org they belong to and whether their gateway is deleted. */
export type LoadedKnocs = ReadonlyMap<string, KnocFields & { gatewayDeletedAt: Date | null }>;

/** Reads the knocs with these ids (any org, not deleted) in one query; ids that are not UUIDs are skipped. */
export async function loadGrantKnocs(db: Db, knocIds: readonly string[]): Promise<LoadedKnocs> {
  const ids = [...new Set(knocIds)].filter(isUuid);
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ ...KNOC_FIELDS, gatewayDeletedAt: gateways.deletedAt })
    .from(knocs)
    .innerJoin(gateways, eq(gateways.id, knocs.gatewayId))
    .where(and(inArray(knocs.id, ids), isNull(knocs.deletedAt)));
  return new Map(rows.map((row) => [row.id, row]));
}

/** One knoc of `ctx`'s org able to take grants; 404 when missing or deleted, 400 on `field` when its gateway is. */
export function requireLoadedKnoc(
  ctx: ServiceContext,
  loaded: LoadedKnocs,
  knocId: string,
  field = 'knoc_id',
): GrantKnoc {
  if (!isUuid(knocId)) throw new ValidationError(field, `${field} must be a UUID`);
  const row = loaded.get(knocId);
  if (!row || row.orgId !== ctx.orgId) throw new NotFoundError('knoc', knocId);
  if (row.gatewayDeletedAt !== null) {
    throw new ValidationError(
      field,
      `knoc ${row.name} is on a deleted gateway; point it at a live gateway first`,
    );
  }
  return toGrantKnoc(row);
}

/** One knoc able to take grants; 404 when missing or deleted, 400 on `field` when its gateway is deleted. */
export async function requireGrantKnoc(
  ctx: ServiceContext,
  knocId: string,
  field = 'knoc_id',
): Promise<GrantKnoc> {
  return requireLoadedKnoc(ctx, await loadGrantKnocs(ctx.db, [knocId]), knocId, field);
}

export interface NewGrant {
  knoc: GrantKnoc;
  userId: string | null;
  ip: string;
  expiresAt: Date;
  method: GrantMethod;
  reason?: string | null;
  sessionId?: string | null;
  tokenId?: string | null;
  /** End the user's other live grants on the same knoc with reason `replaced` (sign-in, click, knock). */
  replacePrevious: boolean;
}

function grantEvent(type: 'grant.created' | 'grant.ended', row: GrantRow): AccessEvent {
  return {
    type,
    orgId: row.orgId,
    siteId: row.siteId,
    knocId: row.knocId,
    grantId: row.id,
    payload: {
      grant_id: row.id,
      knoc_id: row.knocId,
      user_id: row.userId,
      ip: row.ip,
      method: row.method,
      expires_at: row.expiresAt.toISOString(),
      ...(type === 'grant.ended' ? { end_reason: row.endReason, ended_at: row.endedAt?.toISOString() } : {}),
    },
  };
}

const auditView = (row: GrantRow) => ({
  knoc_id: row.knocId,
  user_id: row.userId,
  ip: row.ip,
  method: row.method,
  reason: row.reason,
  expires_at: row.expiresAt,
  ended_at: row.endedAt,
  end_reason: row.endReason,
});

/** Writes the audit entries and outbox events of ended grants on `db`; returns the events. */
async function recordEnded(
  ctx: ServiceContext,
  db: Db,
  rows: GrantRow[],
  actorOf: (row: GrantRow) => Actor = () => ctx.actor,
): Promise<AccessEvent[]> {
  const list = rows.map((row) => grantEvent('grant.ended', row));
  await recordAll(
    db,
    rows.map((row) => ({
      orgId: row.orgId,
      actor: actorOf(row),
      action: row.endReason === 'expired' ? 'grant.expire' : 'grant.end',
      targetType: 'grant',
      targetId: row.id,
      siteId: row.siteId,
      after: auditView(row),
    })),
  );
  await storeEvents(db, list);
  return list;
}

const openAt = (now: Date): SQL => and(isNull(grants.endedAt), gt(grants.expiresAt, now)) as SQL;

/** One caller's grants: written together with other callers' in one transaction by `writeGrants`. */
export interface GrantSubmission {
  /** Who asks (the audit actor and `created_by`). */
  actor: Actor;
  specs: readonly NewGrant[];
}

/** The (knoc, user) whose previous grants `spec` replaces, or null. */
export function replacementKey(spec: NewGrant): string | null {
  return spec.replacePrevious && spec.userId !== null ? `${spec.knoc.id}\u0000${spec.userId}` : null;
}

/**
 * Writes the grants of several submissions on `tx` with multi-row statements — one update ending the grants
 * they replace, one insert each for the grants, their audit entries and their outbox events — and returns the
 * change plus each submission's created rows in its own order. Two submissions must not replace the same
 * (knoc, user): the caller keeps those in separate transactions so the later one replaces the earlier.
 */
export async function writeGrants(
  tx: ServiceContext,
  submissions: readonly GrantSubmission[],
): Promise<{ change: GrantChange; perSubmission: GrantRow[][] }> {
  const now = tx.now();
  const replacer = new Map<string, Actor>();
  for (const submission of submissions) {
    for (const spec of submission.specs) {
      const key = replacementKey(spec);
      if (key !== null) replacer.set(key, submission.actor);
    }
  }
  const ended: GrantRow[] = [];
  if (replacer.size > 0) {
    const pairs = submissions.flatMap((s) =>
      s.specs.filter((spec) => replacementKey(spec) !== null),
    );
    ended.push(
      ...(await tx.db
        .update(grants)
        .set({ endedAt: now, endReason: 'replaced' })
        .where(
          and(
            or(
              ...pairs.map((spec) =>
                and(eq(grants.knocId, spec.knoc.id), eq(grants.userId, spec.userId as string)),
              ),
            ),
            inArray(grants.method, ['login', 'click', 'client']),
            openAt(now),
          ),
        )
        .returning()),
    );
  }
  // Ids are chosen here so each caller's rows are matched by id, whatever order the database returns them in.
  const planned = submissions.map((submission) =>
    submission.specs.map((spec) => ({ id: randomUUID(), spec, actor: submission.actor })),
  );
  const flat = planned.flat();
  const inserted = await tx.db
    .insert(grants)
    .values(
      flat.map(({ id, spec, actor }) => ({
        id,
        orgId: spec.knoc.orgId,
        siteId: spec.knoc.siteId,
        knocId: spec.knoc.id,
        userId: spec.userId,
        ip: spec.ip,
        method: spec.method,
        reason: spec.reason ?? null,
        sessionId: spec.sessionId ?? null,
        tokenId: spec.tokenId ?? null,
        createdBy: actor.id,
        createdAt: now,
        expiresAt: spec.expiresAt,
      })),
    )
    .returning();
  const byId = new Map(inserted.map((row) => [row.id, row]));
  const created = flat.map(({ id }) => byId.get(id) as GrantRow);
  const endedEvents = await recordEnded(tx, tx.db, ended, (row) =>
    replacer.get(`${row.knocId}\u0000${row.userId}`) ?? tx.actor,
  );
  await recordAll(
    tx.db,
    flat.map(({ actor }, i) => {
      const grant = created[i] as GrantRow;
      return {
        orgId: grant.orgId,
        actor,
        action: 'grant.create',
        targetType: 'grant',
        targetId: grant.id,
        siteId: grant.siteId,
        after: auditView(grant),
      };
    }),
  );
  const createdEvents = created.map((row) => grantEvent('grant.created', row));
  await storeEvents(tx.db, createdEvents);
  return {
    change: { created, ended, events: [...endedEvents, ...createdEvents] },
    perSubmission: planned.map((list) => list.map(({ id }) => byId.get(id) as GrantRow)),
  };
}

/** Creates grants (one transaction), then notifies. Concurrent request paths go through `GrantBatcher`. */
export async function createGrants(
  ctx: ServiceContext,
  specs: readonly NewGrant[],
  notifier: GrantNotifier,
): Promise<GrantRow[]> {
  if (specs.length === 0) return [];
  const { change } = await inTransaction(ctx, (tx) => writeGrants(tx, [{ actor: tx.actor, specs }]));
  await notifier.grantsChanged(change);
  return change.created;
}

/**
 * Ends the open grants of a user who was just disabled or deleted, at once (the owner of each alias is poked,
 * on whichever node): the reconcilers' own sweep of inactive users stays as the safety net.
 */
export async function endGrantsOfInactiveUser(
  ctx: ServiceContext,
  userId: string,
  notifier: GrantNotifier,
): Promise<GrantRow[]> {
  return endGrants(ctx, eq(grants.userId, userId), 'revoked', notifier);
}

/** Ends the open grants matching `where` with `reason` (one transaction), then notifies. */
export async function endGrants(
  ctx: ServiceContext,
  where: SQL,
  reason: Exclude<EndReason, 'expired'>,
  notifier: GrantNotifier,
): Promise<GrantRow[]> {
  const change = await inTransaction(ctx, async (tx) => {
    const now = tx.now();
    const ended = await tx.db
      .update(grants)
      .set({ endedAt: now, endReason: reason })
      .where(and(eq(grants.orgId, tx.orgId), openAt(now), where))
      .returning();
    return { created: [], ended, events: await recordEnded(tx, tx.db, ended) };
  });
  await notifier.grantsChanged(change);
  return change.ended;
}

/**
 * Marks grants past `expires_at` ended with reason `expired` at their own instant (`ended_at = expires_at`),
 * audited as the system; `knocIds` limits it to some knocs. Returns what it ended (the caller emits).
 */
export async function expireDue(ctx: ServiceContext, knocIds?: readonly string[]): Promise<GrantChange> {
  if (knocIds !== undefined && knocIds.length === 0) return { created: [], ended: [], events: [] };
  return inTransaction(ctx, async (tx) => {
    const ended = await tx.db
      .update(grants)
      .set({ endedAt: grants.expiresAt, endReason: 'expired' })
      .where(
        and(
          isNull(grants.endedAt),
          lte(grants.expiresAt, tx.now()),
          knocIds === undefined ? undefined : inArray(grants.knocId, [...knocIds]),
        ),
      )
      .returning();
    return { created: [], ended, events: await recordEnded(tx, tx.db, ended) };
  });
}

/**
 * Ends (reason `revoked`, audited as the system) the open grants of users who have since been disabled or
 * deleted, so a reconcile takes their addresses off even though nobody revoked the grants by hand.
 */
export async function revokeForInactiveUsers(
  ctx: ServiceContext,
  knocIds: readonly string[],
): Promise<GrantChange> {
  if (knocIds.length === 0) return { created: [], ended: [], events: [] };
  return inTransaction(ctx, async (tx) => {
    const inactive = tx.db
      .select({ id: users.id })
      .from(users)
      .where(or(eq(users.disabled, true), sql`${users.deletedAt} is not null`));
    const ended = await tx.db
      .update(grants)
      .set({ endedAt: tx.now(), endReason: 'revoked' })
      .where(
        and(isNull(grants.endedAt), inArray(grants.knocId, [...knocIds]), inArray(grants.userId, inactive)),
      )
      .returning();
    return { created: [], ended, events: await recordEnded(tx, tx.db, ended) };
  });
}

/** A grant row of this org; 404 otherwise. */
export async function getGrantRow(ctx: ServiceContext, id: string): Promise<GrantRow> {
  requireIdOrNotFound('grant', id);
  const [row] = await ctx.db
    .select()
    .from(grants)
    .where(and(eq(grants.orgId, ctx.orgId), eq(grants.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError('grant', id);
  return row;
}

/** Moves `expires_at` to now + ttl (≤ the knoc maximum), then notifies (the expiry timer moves). */
export async function extendGrant(
  ctx: ServiceContext,
  id: string,
  ttlSeconds: unknown,
  notifier: GrantNotifier,
): Promise<GrantRow> {
  const before = await getGrantRow(ctx, id);
  const knoc = await requireGrantKnoc(ctx, before.knocId, 'id');
  const now = ctx.now();
  const expiresAt = new Date(
    extendedExpiry(
      { endedAt: before.endedAt?.getTime() ?? null, expiresAt: before.expiresAt.getTime() },
      ttlSeconds,
      knoc,
      now.getTime(),
    ),
  );
  const row = await inTransaction(ctx, async (tx) => {
    const [updated] = await tx.db
      .update(grants)
      .set({ expiresAt })
      .where(and(eq(grants.id, id), openAt(now)))
      .returning();
    if (!updated) throw new ValidationError('id', 'the grant has already ended; create a new one');
    await record(tx.db, {
      orgId: updated.orgId,
      actor: tx.actor,
      action: 'grant.extend',
      targetType: 'grant',
      targetId: id,
      siteId: updated.siteId,
      before: { expires_at: before.expiresAt },
      after: { expires_at: updated.expiresAt },
    });
    return updated;
  });
  await notifier.grantsChanged({ created: [row], ended: [], events: [] });
  return row;
}

/** Validates an address for a grant: canonical text, allowed by the knoc's source conditions. */
export function grantAddress(knoc: GrantKnoc, value: unknown, field = 'ip'): string {
  const ip = typeof value === 'string' ? canonicalAddress(value.trim()) : null;
  if (ip === null || (typeof value === 'string' && value.includes('/'))) {
    throw new ValidationError(field, `${field} must be a single IPv4 or IPv6 address`);
  }
  const refusal = checkGrantSource(knoc, ip);
  if (refusal !== null) throw new ValidationError(field, refusal.message);
  return ip;
}

/** The expiry of a new grant on `knoc` (`ttl_seconds` ≤ the knoc maximum, or its default). */
export function newGrantExpiry(knoc: GrantKnoc, ttlSeconds: unknown, now: Date): Date {
  return new Date(now.getTime() + resolveTtlSeconds(ttlSeconds, knoc) * 1_000);
}

interface ListGrantsOptions {
  scope: 'all' | string[];
  knocId?: string;
  userId?: string;
  ip?: string;
  status?: 'live' | 'ended' | 'all';
  limit?: number;
  offset?: number;
}

const GRANT_VIEW = {
  row: grants,
  knocName: knocs.name,
  username: users.username,
};

export function grantView(row: GrantRow, knocName: string, username: string | null, now: Date): GrantView {
  const live = row.endedAt === null && row.expiresAt > now;
  return {
    id: row.id,
    knocId: row.knocId,
    knocName,
    siteId: row.siteId,
    userId: row.userId,
    username,
    ip: row.ip,
    method: row.method as GrantMethod,
    reason: row.reason,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    endedAt: row.endedAt ?? (live ? null : row.expiresAt),
    endReason: (row.endReason ?? (live ? null : 'expired')) as EndReason | null,
    status: live ? 'live' : 'ended',
    syncState: row.syncState as SyncState,
    secondsLeft: live ? Math.max(0, Math.ceil((row.expiresAt.getTime() - now.getTime()) / 1_000)) : 0,
  };
}

export async function listGrants(ctx: ServiceContext, options: ListGrantsOptions): Promise<GrantView[]> {
  if (options.scope !== 'all' && options.scope.length === 0) return [];
  const now = ctx.now();
  const conditions: (SQL | undefined)[] = [eq(grants.orgId, ctx.orgId)];
  if (options.scope !== 'all') conditions.push(inArray(grants.siteId, options.scope));
  if (options.knocId) conditions.push(eq(grants.knocId, options.knocId));
  if (options.userId) conditions.push(eq(grants.userId, options.userId));
  if (options.ip !== undefined) {
    const ip = canonicalAddress(options.ip);
    if (ip === null) throw new ValidationError('ip', 'ip must be an IPv4 or IPv6 address');
    conditions.push(eq(grants.ip, ip));
  }
  if (options.status === 'live') conditions.push(openAt(now));
  if (options.status === 'ended')
    conditions.push(or(sql`${grants.endedAt} is not null`, lte(grants.expiresAt, now)));
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select(GRANT_VIEW)
    .from(grants)
    .innerJoin(knocs, eq(knocs.id, grants.knocId))
    .leftJoin(users, eq(users.id, grants.userId))
    .where(and(...conditions))
    .orderBy(desc(grants.createdAt), desc(grants.id))
    .limit(limit)
    .offset(offset);
  return rows.map((r) => grantView(r.row, r.knocName, r.username, now));
}

export async function getGrant(ctx: ServiceContext, id: string): Promise<GrantView> {
  requireIdOrNotFound('grant', id);
  const [r] = await ctx.db
    .select(GRANT_VIEW)
    .from(grants)
    .innerJoin(knocs, eq(knocs.id, grants.knocId))
    .leftJoin(users, eq(users.id, grants.userId))
    .where(and(eq(grants.orgId, ctx.orgId), eq(grants.id, id)))
    .limit(1);
  if (!r) throw new NotFoundError('grant', id);
  return grantView(r.row, r.knocName, r.username, ctx.now());
}
