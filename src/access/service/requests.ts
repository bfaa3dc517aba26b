/**
 * @module Access requests (docs/access-requests.md, ADRs 0230-0234): on a knoc that requires approval a grant
 * call records a request — what (knoc, address), how long, why — instead of a grant. Members of the knoc's
 * approver group, never the requester, approve or deny it (console, API, CLI or a signed link); the final
 * approval writes the grant through the usual grant path (`writeGrants`) in the same transaction, so it starts
 * then and reaches the firewall like any other grant. Undecided requests expire (a job). The request, every
 * decision and the grant id stay in the store.
 *
 * Concurrency: a decision locks the request row (`SELECT … FOR UPDATE`) before it counts approvals, and at
 * most one decision per (request, approver) exists (unique index), so two approvers at once make one grant.
 */
import { and, asc, desc, eq, gt, inArray, lte, or, type SQL, sql } from 'drizzle-orm';
import { type Actor, record, recordAll } from '../../audit/record.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { isUuid, requireIdOrNotFound, requireString } from '../../core/validate.ts';
import {
  ConflictError,
  DecisionLinkError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  SelfApprovalError,
  ValidationError,
} from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { accessRequestDecisions, accessRequests, knocs } from '../../store/schema/access.ts';
import { groupMembers, users } from '../../store/schema/identity.ts';
import {
  type Decision,
  type DecisionClaim,
  openDecisionLink,
  requireUnexpired,
  signDecisionLink,
} from '../decision-links.ts';
import { checkGrantSource } from '../grant-policy.ts';
import { type AccessEvent, storeEvents } from './events.ts';
import {
  type GrantChange,
  type GrantKnoc,
  type GrantNotifier,
  type GrantRow,
  loadGrantKnocs,
  requireLoadedKnoc,
  writeGrants,
} from './grants.ts';

type RequestStatus = 'pending' | 'approved' | 'denied' | 'expired';
type RequestRow = typeof accessRequests.$inferSelect;
type DecisionRow = typeof accessRequestDecisions.$inferSelect;

/** Justification text limits: a required justification must say something; none may be an essay. */
export const JUSTIFICATION_MIN = 3;
export const JUSTIFICATION_MAX = 1_000;
const COMMENT_MAX = 1_000;
/** At most this many approvers get signed links in one `access.request.created` event. */
export const MAX_LINKED_APPROVERS = 50;

interface DecisionView {
  approverId: string | null;
  approverName: string;
  decision: Decision;
  comment: string | null;
  via: 'console' | 'link';
  createdAt: Date;
}

export interface AccessRequestView {
  id: string;
  knocId: string;
  knocName: string;
  siteId: string;
  requesterId: string | null;
  requesterName: string | null;
  ip: string;
  ttlSeconds: number;
  justification: string | null;
  /** `pending` until decided; a pending request past `expires_at` reads `expired` before the job writes it. */
  status: RequestStatus;
  approvalsRequired: number;
  approvals: number;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  grantId: string | null;
  decisions: DecisionView[];
}

/** Who reads: requests of their sites (`access.view` scope), their own, and those their groups decide. */
export interface RequestViewer {
  userId: string;
  scope: 'all' | string[];
}

/** The justification of a grant or request on `knoc`: required (and at least a few characters) when it says so. */
export function justificationOf(knoc: GrantKnoc, value: unknown): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    if (knoc.requires.justification)
      throw new ValidationError('justification', `knoc ${knoc.name} requires a justification`);
    return null;
  }
  const text = requireString('justification', value, { min: 1, max: JUSTIFICATION_MAX }).trim();
  if (knoc.requires.justification && text.length < JUSTIFICATION_MIN)
    throw new ValidationError('justification', `justification must be at least ${JUSTIFICATION_MIN} characters`);
  return text;
}

function commentOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = requireString('comment', value, { min: 0, max: COMMENT_MAX }).trim();
  return text === '' ? null : text;
}

function statusAt(row: RequestRow, now: Date): RequestStatus {
  return row.status === 'pending' && row.expiresAt <= now ? 'expired' : (row.status as RequestStatus);
}

function requestEvent(
  type: 'access.request.created' | 'access.request.approved' | 'access.request.denied' | 'access.request.expired',
  row: RequestRow,
  extra: Record<string, unknown> = {},
): AccessEvent {
  return {
    type,
    orgId: row.orgId,
    siteId: row.siteId,
    knocId: row.knocId,
    grantId: row.grantId,
    payload: {
      request_id: row.id,
      knoc_id: row.knocId,
      requester_id: row.requesterId,
      ip: row.ip,
      ttl_seconds: row.ttlSeconds,
      approvals_required: row.approvalsRequired,
      status: row.status,
      expires_at: row.expiresAt.toISOString(),
      decided_at: row.decidedAt?.toISOString() ?? null,
      grant_id: row.grantId,
      ...extra,
    },
  };
}

const auditView = (row: RequestRow) => ({
  knoc_id: row.knocId,
  requester_id: row.requesterId,
  ip: row.ip,
  ttl_seconds: row.ttlSeconds,
  justification: row.justification,
  approvals_required: row.approvalsRequired,
  status: row.status,
  expires_at: row.expiresAt,
  grant_id: row.grantId,
});

/** Members of `groupId`, by username (for links and the "may decide" check). */
async function approversOf(db: Db, groupId: string | null): Promise<{ id: string; username: string }[]> {
  if (groupId === null) return [];
  return db
    .select({ id: users.id, username: users.username })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(and(eq(groupMembers.groupId, groupId), sql`${users.deletedAt} is null`, eq(users.disabled, false)))
    .orderBy(asc(users.username));
}

export interface NewAccessRequest {
  knoc: GrantKnoc;
  requesterId: string;
  ip: string;
  ttlSeconds: number;
  justification: string | null;
  /** `PORTCULLIS_PUBLIC_URL` (an origin): when set, each decision link also carries absolute URLs. */
  publicUrl?: string | null;
}

/**
 * Records a request (audited, `access.request.created` with signed decision links for each approver but the
 * requester), then notifies. One pending request per (requester, knoc): a second is a 409.
 */
export async function createAccessRequest(
  ctx: ServiceContext,
  input: NewAccessRequest,
  notifier: GrantNotifier,
): Promise<AccessRequestView> {
  const { knoc } = input;
  const { row, event } = await inTransaction(ctx, async (tx) => {
    const now = tx.now();
    // The knoc row is locked so two clicks at once cannot both find no pending request.
    await tx.db.select({ id: knocs.id }).from(knocs).where(eq(knocs.id, knoc.id)).for('update');
    const [pending] = await tx.db
      .select({ id: accessRequests.id })
      .from(accessRequests)
      .where(
        and(
          eq(accessRequests.knocId, knoc.id),
          eq(accessRequests.requesterId, input.requesterId),
          eq(accessRequests.status, 'pending'),
          gt(accessRequests.expiresAt, now),
        ),
      )
      .limit(1);
    if (pending) throw new ConflictError(`you already have a pending request (${pending.id}) on knoc ${knoc.name}`);
    const [inserted] = await tx.db
      .insert(accessRequests)
      .values({
        orgId: knoc.orgId,
        siteId: knoc.siteId,
        knocId: knoc.id,
        requesterId: input.requesterId,
        ip: input.ip,
        ttlSeconds: input.ttlSeconds,
        justification: input.justification,
        approverGroupId: knoc.requires.approverGroupId,
        approvalsRequired: knoc.requires.approvalsRequired,
        createdAt: now,
        expiresAt: new Date(now.getTime() + knoc.requires.requestTtlSeconds * 1_000),
      })
      .returning();
    const created = inserted as RequestRow;
    const approvers = (await approversOf(tx.db, created.approverGroupId)).filter(
      (approver) => approver.id !== input.requesterId,
    );
    const links = approvers.slice(0, MAX_LINKED_APPROVERS).map((approver) => {
      const claim = { requestId: created.id, approverId: approver.id, expiresAt: created.expiresAt.getTime() };
      const approve = signDecisionLink(tx.keyring, { ...claim, decision: 'approve' });
      const deny = signDecisionLink(tx.keyring, { ...claim, decision: 'deny' });
      return {
        approver_id: approver.id,
        approver: approver.username,
        approve_token: approve,
        deny_token: deny,
        // A fragment, so the token never reaches a server log when the page is opened.
        approve_path: `/decide#token=${approve}`,
        deny_path: `/decide#token=${deny}`,
        // Ready to put in a mail or chat message when the server knows the origin people reach it at.
        ...(input.publicUrl
          ? { approve_url: `${input.publicUrl}/decide#token=${approve}`, deny_url: `${input.publicUrl}/decide#token=${deny}` }
          : {}),
      };
    });
    await record(tx.db, {
      orgId: created.orgId,
      actor: tx.actor,
      action: 'access_request.create',
      targetType: 'access_request',
      targetId: created.id,
      siteId: created.siteId,
      after: auditView(created),
    });
    const list = [
      requestEvent('access.request.created', created, {
        knoc_name: knoc.name,
        justification: created.justification,
        approvers: approvers.length,
        decision_links: links,
      }),
    ];
    await storeEvents(tx.db, list);
    return { row: created, event: list };
  });
  await notifier.grantsChanged({ created: [], ended: [], events: event });
  return (await viewsOf(ctx.db, [row], ctx.now()))[0] as AccessRequestView;
}

export interface DecisionInput {
  approver: { id: string; name: string };
  decision: Decision;
  comment?: unknown;
  via: 'console' | 'link';
}

/**
 * One approver's decision. Refused: the requester (403 `self_approval`), someone outside the request's approver
 * group (403), a request no longer pending or already decided by this approver (409). A deny ends the request;
 * the approval that reaches `approvals_required` writes the grant (starting now, for `ttl_seconds`).
 */
export async function decideAccessRequest(
  ctx: ServiceContext,
  requestId: string,
  input: DecisionInput,
  notifier: GrantNotifier,
): Promise<AccessRequestView> {
  requireIdOrNotFound('access request', requestId);
  const comment = commentOf(input.comment);
  const { row, change } = await inTransaction(ctx, async (tx) => {
    const now = tx.now();
    const [locked] = await tx.db
      .select()
      .from(accessRequests)
      .where(and(eq(accessRequests.orgId, tx.orgId), eq(accessRequests.id, requestId)))
      .for('update');
    if (!locked) throw new NotFoundError('access request', requestId);
    if (locked.requesterId === input.approver.id) throw new SelfApprovalError();
    const status = statusAt(locked, now);
    if (status !== 'pending') throw new ConflictError(`the request is already ${status}`);
    const approvers = await approversOf(tx.db, locked.approverGroupId);
    if (!approvers.some((approver) => approver.id === input.approver.id))
      throw new ForbiddenError("you are not in this request's approver group");
    const earlier = await tx.db
      .select()
      .from(accessRequestDecisions)
      .where(eq(accessRequestDecisions.requestId, locked.id));
    if (earlier.some((d) => d.approverId === input.approver.id))
      throw new ConflictError('you have already decided this request');
    await tx.db.insert(accessRequestDecisions).values({
      orgId: locked.orgId,
      requestId: locked.id,
      approverId: input.approver.id,
      approverName: input.approver.name,
      decision: input.decision,
      comment,
      via: input.via,
      createdAt: now,
    });
    const approvals = earlier.filter((d) => d.decision === 'approve').length + (input.decision === 'approve' ? 1 : 0);
    const audit = {
      orgId: locked.orgId,
      actor: tx.actor,
      action: `access_request.${input.decision}`,
      targetType: 'access_request',
      targetId: locked.id,
      siteId: locked.siteId,
      after: { decision: input.decision, comment, via: input.via, approvals, approvals_required: locked.approvalsRequired },
    };
    if (input.decision === 'deny') {
      const [denied] = await tx.db
        .update(accessRequests)
        .set({ status: 'denied', decidedAt: now })
        .where(eq(accessRequests.id, locked.id))
        .returning();
      const events = [requestEvent('access.request.denied', denied as RequestRow, { comment })];
      await record(tx.db, audit);
      await storeEvents(tx.db, events);
      return { row: denied as RequestRow, change: { created: [], ended: [], events } };
    }
    await record(tx.db, audit);
    if (approvals < locked.approvalsRequired) {
      return { row: locked, change: { created: [], ended: [], events: [] } };
    }
    const grant = await grantFor(tx, locked, now);
    const [approved] = await tx.db
      .update(accessRequests)
      .set({ status: 'approved', decidedAt: now, grantId: grant.row.id })
      .where(eq(accessRequests.id, locked.id))
      .returning();
    const done = approved as RequestRow;
    await record(tx.db, {
      ...audit,
      action: 'access_request.grant',
      after: { grant_id: grant.row.id, expires_at: grant.row.expiresAt },
    });
    const events = [requestEvent('access.request.approved', done)];
    await storeEvents(tx.db, events);
    return {
      row: done,
      change: { ...grant.change, events: [...grant.change.events, ...events] },
    };
  });
  await notifier.grantsChanged(change);
  return (await viewsOf(ctx.db, [row], ctx.now()))[0] as AccessRequestView;
}

/** The grant of a fully approved request, through the usual grant path, in the decision's transaction. */
async function grantFor(tx: ServiceContext, request: RequestRow, now: Date): Promise<{ row: GrantRow; change: GrantChange }> {
  const loaded = await loadGrantKnocs(tx.db, [request.knocId]);
  let knoc: GrantKnoc;
  try {
    knoc = requireLoadedKnoc(tx, loaded, request.knocId, 'id');
  } catch {
    throw new ConflictError('the knoc of this request was deleted or lost its gateway; it can take no grant');
  }
  const refusal = checkGrantSource(knoc, request.ip);
  if (refusal !== null) throw new ConflictError(`the request can no longer be granted: ${refusal.message}`);
  // The final approver makes the grant (its `created_by` and audit actor); the requester is its user.
  const { change, perSubmission } = await writeGrants(tx, [
    {
      actor: tx.actor,
      specs: [
        {
          knoc,
          userId: request.requesterId,
          ip: request.ip,
          expiresAt: new Date(now.getTime() + request.ttlSeconds * 1_000),
          method: 'approval',
          reason: request.justification ?? `access request ${request.id}`,
          replacePrevious: false,
        },
      ],
    },
  ]);
  return { row: perSubmission[0]?.[0] as GrantRow, change };
}

/**
 * A decision through a signed link: the link names the approver; the same checks as the console apply. A refused
 * link (forged, altered, expired, used already, self-approval, approver gone or outside the group) is audited as
 * `access_request.link_refused` with the caller's address, never with the token (ADR 0288).
 */
export async function decideByLink(
  ctx: ServiceContext,
  token: string,
  comment: unknown,
  notifier: GrantNotifier,
): Promise<AccessRequestView> {
  let claim: DecisionClaim | null = null;
  try {
    claim = openDecisionLink(ctx.keyring, token);
    requireUnexpired(claim, ctx.now());
    const [approver] = isUuid(claim.approverId)
      ? await ctx.db
          .select({ id: users.id, username: users.username })
          .from(users)
          .where(and(eq(users.orgId, ctx.orgId), eq(users.id, claim.approverId), sql`${users.deletedAt} is null`))
          .limit(1)
      : [];
    if (!approver) throw new ForbiddenError('the approver of this link no longer exists');
    const actor: Actor = { ...ctx.actor, type: 'user', id: approver.id, name: `${approver.username} (signed link)` };
    return await decideAccessRequest(
      { ...ctx, actor },
      claim.requestId,
      { approver: { id: approver.id, name: approver.username }, decision: claim.decision, comment, via: 'link' },
      notifier,
    );
  } catch (err) {
    if (err instanceof DomainError) await recordRefusedLink(ctx, claim, err);
    throw err;
  }
}

function refusalReason(err: DomainError): string {
  if (err instanceof DecisionLinkError) return err.reason;
  // One decision per approver, none once the request is decided: a 409 is a used link or a decided request.
  if (err instanceof ConflictError) return 'already_decided';
  return err.code;
}

/** One audit entry for a refused link: why, and what the link named once its signature held. */
async function recordRefusedLink(ctx: ServiceContext, claim: DecisionClaim | null, err: DomainError): Promise<void> {
  const requestId = claim !== null && isUuid(claim.requestId) ? claim.requestId : null;
  const [request] =
    requestId === null
      ? []
      : await ctx.db
          .select({ siteId: accessRequests.siteId })
          .from(accessRequests)
          .where(and(eq(accessRequests.orgId, ctx.orgId), eq(accessRequests.id, requestId)))
          .limit(1);
  await record(ctx.db, {
    orgId: ctx.orgId,
    actor: ctx.actor,
    action: 'access_request.link_refused',
    targetType: 'access_request',
    targetId: request ? requestId : null,
    siteId: request?.siteId ?? null,
    after: {
      reason: refusalReason(err),
      message: err.message,
      ...(claim === null
        ? {}
        : { approver_id: claim.approverId, decision: claim.decision, link_expires_at: new Date(claim.expiresAt) }),
    },
    outcome: 'denied',
  });
}

/** Marks pending requests past `expires_at` expired (audited as the system); returns their events to emit. */
export async function expireAccessRequests(ctx: ServiceContext): Promise<AccessEvent[]> {
  return inTransaction(ctx, async (tx) => {
    const expired = await tx.db
      .update(accessRequests)
      .set({ status: 'expired', decidedAt: accessRequests.expiresAt })
      .where(
        and(
          eq(accessRequests.orgId, tx.orgId),
          eq(accessRequests.status, 'pending'),
          lte(accessRequests.expiresAt, tx.now()),
        ),
      )
      .returning();
    await recordAll(
      tx.db,
      expired.map((row) => ({
        orgId: row.orgId,
        actor: tx.actor,
        action: 'access_request.expire',
        targetType: 'access_request',
        targetId: row.id,
        siteId: row.siteId,
        after: auditView(row),
      })),
    );
    const events = expired.map((row) => requestEvent('access.request.expired', row));
    await storeEvents(tx.db, events);
    return events;
  });
}

async function viewsOf(db: Db, rows: RequestRow[], now: Date): Promise<AccessRequestView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const decisions = await db
    .select()
    .from(accessRequestDecisions)
    .where(inArray(accessRequestDecisions.requestId, ids))
    .orderBy(asc(accessRequestDecisions.createdAt), asc(accessRequestDecisions.id));
  const names = await db
    .select({ id: knocs.id, name: knocs.name })
    .from(knocs)
    .where(inArray(knocs.id, [...new Set(rows.map((row) => row.knocId))]));
  const requesterIds = [...new Set(rows.flatMap((row) => (row.requesterId ? [row.requesterId] : [])))];
  const requesters =
    requesterIds.length === 0
      ? []
      : await db.select({ id: users.id, username: users.username }).from(users).where(inArray(users.id, requesterIds));
  const knocName = new Map(names.map((k) => [k.id, k.name]));
  const username = new Map(requesters.map((u) => [u.id, u.username]));
  const byRequest = new Map<string, DecisionRow[]>();
  for (const d of decisions) byRequest.set(d.requestId, [...(byRequest.get(d.requestId) ?? []), d]);
  return rows.map((row) => {
    const list = byRequest.get(row.id) ?? [];
    return {
      id: row.id,
      knocId: row.knocId,
      knocName: knocName.get(row.knocId) ?? '',
      siteId: row.siteId,
      requesterId: row.requesterId,
      requesterName: row.requesterId ? (username.get(row.requesterId) ?? null) : null,
      ip: row.ip,
      ttlSeconds: row.ttlSeconds,
      justification: row.justification,
      status: statusAt(row, now),
      approvalsRequired: row.approvalsRequired,
      approvals: list.filter((d) => d.decision === 'approve').length,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      decidedAt: row.decidedAt ?? (statusAt(row, now) === 'expired' ? row.expiresAt : null),
      grantId: row.grantId,
      decisions: list.map((d) => ({
        approverId: d.approverId,
        approverName: d.approverName,
        decision: d.decision as Decision,
        comment: d.comment,
        via: d.via as 'console' | 'link',
        createdAt: d.createdAt,
      })),
    };
  });
}

function visibleTo(viewer: RequestViewer): SQL {
  const myGroups = sql`(select ${groupMembers.groupId} from ${groupMembers} where ${groupMembers.userId} = ${viewer.userId})`;
  const parts: SQL[] = [
    eq(accessRequests.requesterId, viewer.userId),
    sql`${accessRequests.approverGroupId} in ${myGroups}`,
  ];
  if (viewer.scope === 'all') parts.push(sql`true`);
  else if (viewer.scope.length > 0) parts.push(inArray(accessRequests.siteId, viewer.scope));
  return or(...parts) as SQL;
}

export interface ListAccessRequestsOptions {
  viewer: RequestViewer;
  status?: RequestStatus;
  knocId?: string;
  requesterId?: string;
  /** Only pending requests the viewer may still decide (in the group, not the requester, not yet decided). */
  awaitingMe?: boolean;
  /** Only the viewer's own requests. */
  mine?: boolean;
  limit?: number;
  offset?: number;
}

export async function listAccessRequests(
  ctx: ServiceContext,
  options: ListAccessRequestsOptions,
): Promise<AccessRequestView[]> {
  const now = ctx.now();
  const { viewer } = options;
  const conditions: SQL[] = [eq(accessRequests.orgId, ctx.orgId), visibleTo(viewer)];
  const pending = and(
    eq(accessRequests.status, 'pending'),
    gt(accessRequests.expiresAt, now),
  ) as SQL;
  if (options.status === 'pending') conditions.push(pending);
  else if (options.status === 'expired')
    conditions.push(
      or(
        eq(accessRequests.status, 'expired'),
        and(eq(accessRequests.status, 'pending'), lte(accessRequests.expiresAt, now)),
      ) as SQL,
    );
  else if (options.status) conditions.push(eq(accessRequests.status, options.status));
  if (options.knocId) conditions.push(eq(accessRequests.knocId, options.knocId));
  if (options.requesterId) conditions.push(eq(accessRequests.requesterId, options.requesterId));
  if (options.mine) conditions.push(eq(accessRequests.requesterId, viewer.userId));
  if (options.awaitingMe) {
    conditions.push(
      pending,
      sql`${accessRequests.approverGroupId} in (select ${groupMembers.groupId} from ${groupMembers} where ${groupMembers.userId} = ${viewer.userId})`,
      sql`${accessRequests.requesterId} is distinct from ${viewer.userId}`,
      sql`not exists (select 1 from ${accessRequestDecisions} where ${accessRequestDecisions.requestId} = ${accessRequests.id} and ${accessRequestDecisions.approverId} = ${viewer.userId})`,
    );
  }
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select()
    .from(accessRequests)
    .where(and(...conditions))
    .orderBy(desc(accessRequests.createdAt), desc(accessRequests.id))
    .limit(limit)
    .offset(offset);
  return viewsOf(ctx.db, rows, now);
}

/** One request the viewer may see; 404 otherwise (also for requests of sites they cannot see). */
export async function getAccessRequest(
  ctx: ServiceContext,
  id: string,
  viewer: RequestViewer,
): Promise<AccessRequestView> {
  requireIdOrNotFound('access request', id);
  const [row] = await ctx.db
    .select()
    .from(accessRequests)
    .where(and(eq(accessRequests.orgId, ctx.orgId), eq(accessRequests.id, id), visibleTo(viewer)))
    .limit(1);
  if (!row) throw new NotFoundError('access request', id);
  return (await viewsOf(ctx.db, [row], ctx.now()))[0] as AccessRequestView;
}
