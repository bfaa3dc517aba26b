/**
 * @module The portal's grant logic: grant a person's client address on every knoc they are entitled to
 * (assigned directly or through a group) whose source conditions allow it, and report the refusals with
 * their reason. Used by sign-in, click-to-grant and the machine client (docs/adr/0095-portal.md).
 */
import { inArray } from 'drizzle-orm';
import { NotFoundError } from '../../errors.ts';
import type { ServiceContext } from '../../core/context.ts';
import { knocs } from '../../store/schema/access.ts';
import { canonicalAddress } from '../../net/client-ip.ts';
import { checkGrantSource, planSignInGrants } from '../grant-policy.ts';
import type { GrantBatcher } from './grant-batcher.ts';
import { type GrantKnoc, type GrantMethod, type GrantNotifier, grantKnocs, type NewGrant } from './grants.ts';
import { entitledKnocIds } from './knocs.ts';
import { type AccessRequestView, createAccessRequest, justificationOf } from './requests.ts';

export interface PortalGrantResult {
  ip: string;
  granted: { knocId: string; knocName: string; grantId: string; expiresAt: Date; secondsLeft: number }[];
  refused: { knocId: string; knocName: string; reason: string; message: string }[];
  /** Access requests recorded instead of grants, on knocs that require approval (docs/access-requests.md). */
  requested: AccessRequestView[];
}

interface PortalGrantRequest {
  userId: string;
  ip: string;
  method: GrantMethod;
  /** Only these knocs (click-to-grant, `knock --knoc`); default every entitled knoc. */
  only?: (knoc: GrantKnoc) => boolean;
  ttlSeconds?: number;
  sessionId?: string | null;
  tokenId?: string | null;
  /**
   * Set when the caller named the knoc (click-to-grant, `knock --knoc`): a knoc that requires approval then
   * gets an access request, and a missing required justification is a 400 on `justification`. Without it
   * (sign-in, knock on every knoc) such knocs are refused with `approval_required` / `justification_required`.
   */
  ask?: { justification?: unknown; notifier: GrantNotifier; publicUrl?: string | null };
}

/** The live knocs `userId` is entitled to. */
export async function entitledKnocs(ctx: ServiceContext, userId: string): Promise<GrantKnoc[]> {
  const ids = await entitledKnocIds(ctx.db, ctx.orgId, userId);
  return ids.length === 0 ? [] : grantKnocs(ctx.db, ctx.orgId, inArray(knocs.id, ids));
}

/**
 * Grants `ip` on the entitled knocs (together, in one transaction; the user's previous grant on each is
 * `replaced`).
 * `only` narrowing to nothing is a 404 on `notFoundField`.
 */
export async function grantEntitled(
  ctx: ServiceContext,
  request: PortalGrantRequest,
  writer: Pick<GrantBatcher, 'create'>,
  notFound?: { resource: string; id: string },
): Promise<PortalGrantResult> {
  let list = await entitledKnocs(ctx, request.userId);
  if (request.only) list = list.filter(request.only);
  if (notFound && list.length === 0) throw new NotFoundError(notFound.resource, notFound.id);
  const now = ctx.now();
  const ttlFor = (knoc: GrantKnoc) =>
    request.ttlSeconds === undefined
      ? knoc.grantTtlSeconds
      : Math.min(request.ttlSeconds, knoc.maxTtlSeconds);
  const { ask } = request;
  const refusedUpFront: PortalGrantResult['refused'] = [];
  const reasons = new Map<string, string>();
  const direct: GrantKnoc[] = [];
  const toRequest: { knoc: GrantKnoc; justification: string | null }[] = [];
  for (const knoc of list) {
    if (!ask && (knoc.requires.approval || knoc.requires.justification)) {
      const reason = knoc.requires.approval ? 'approval_required' : 'justification_required';
      refusedUpFront.push({
        knocId: knoc.id,
        knocName: knoc.name,
        reason,
        message:
          reason === 'approval_required'
            ? `knoc ${knoc.name} requires approval: request access in the portal`
            : `knoc ${knoc.name} requires a justification: request access in the portal`,
      });
      continue;
    }
    const justification = ask ? justificationOf(knoc, ask.justification) : null;
    if (justification !== null) reasons.set(knoc.id, justification);
    if (knoc.requires.approval) toRequest.push({ knoc, justification });
    else direct.push(knoc);
  }
  const requested: AccessRequestView[] = [];
  const ip = canonicalAddress(request.ip) ?? request.ip;
  for (const { knoc, justification } of toRequest) {
    const refusal = checkGrantSource(knoc, ip);
    if (refusal !== null) {
      refusedUpFront.push({ knocId: knoc.id, knocName: knoc.name, reason: refusal.reason, message: refusal.message });
      continue;
    }
    requested.push(
      await createAccessRequest(
        ctx,
        { knoc, requesterId: request.userId, ip, ttlSeconds: ttlFor(knoc), justification, publicUrl: ask?.publicUrl ?? null },
        (ask as NonNullable<typeof ask>).notifier,
      ),
    );
  }
  const plan = planSignInGrants(
    direct.map((knoc) => ({ ...knoc, grantTtlSeconds: ttlFor(knoc) })),
    request.ip,
    now.getTime(),
  );
  const byId = new Map(list.map((knoc) => [knoc.id, knoc]));
  const specs: NewGrant[] = plan.granted.map((planned) => ({
    knoc: byId.get(planned.knocId) as GrantKnoc,
    userId: request.userId,
    ip: planned.ip,
    expiresAt: new Date(planned.expiresAt),
    method: request.method,
    reason: reasons.get(planned.knocId) ?? null,
    sessionId: request.sessionId ?? null,
    tokenId: request.tokenId ?? null,
    replacePrevious: true,
  }));
  const rows = await writer.create(ctx, specs);
  return {
    ip: plan.granted[0]?.ip ?? ip,
    granted: rows.map((row) => ({
      knocId: row.knocId,
      knocName: byId.get(row.knocId)?.name ?? '',
      grantId: row.id,
      expiresAt: row.expiresAt,
      secondsLeft: Math.max(0, Math.ceil((row.expiresAt.getTime() - now.getTime()) / 1_000)),
    })),
    refused: [
      ...refusedUpFront,
      ...plan.refused.map((refusal) => ({
        knocId: refusal.knocId,
        knocName: refusal.knoc,
        reason: refusal.reason,
        message: refusal.message,
      })),
    ],
    requested,
  };
}
