/**
 * @module Ending the sessions a provider's logout names (OIDC back-channel logout, SAML single logout): by its
 * session (`sid` / SessionIndex) and, when given, its subject, or every session of the subject when only that
 * is named. Returns the ended session ids so the caller ends their grants too. Audited as `auth.logout`.
 */
import { and, eq, isNull, type SQL } from 'drizzle-orm';
import { recordAll } from '../../audit/record.ts';
import type { ServiceContext } from '../../core/context.ts';
import { sessions } from '../../store/schema/identity.ts';

export async function endProviderSessions(
  ctx: ServiceContext,
  providerId: string,
  named: { subject: string | null; sessionId: string | null },
): Promise<string[]> {
  const conditions: SQL[] = [
    eq(sessions.orgId, ctx.orgId),
    eq(sessions.providerId, providerId),
    isNull(sessions.revokedAt),
  ];
  if (named.sessionId !== null) conditions.push(eq(sessions.ssoSessionId, named.sessionId));
  if (named.subject !== null) conditions.push(eq(sessions.ssoSubject, named.subject));
  if (named.sessionId === null && named.subject === null) return [];
  const ended = await ctx.db
    .update(sessions)
    .set({ revokedAt: ctx.now() })
    .where(and(...conditions))
    .returning({ id: sessions.id, userId: sessions.userId });
  await recordAll(
    ctx.db,
    ended.map((row) => ({
      orgId: ctx.orgId,
      actor: ctx.actor,
      action: 'auth.logout',
      targetType: 'session',
      targetId: row.id,
      after: { provider_id: providerId, by: 'identity_provider' },
    })),
  );
  return ended.map((row) => row.id);
}
