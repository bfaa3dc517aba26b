/**
 * @module The provider-neutral half of a single sign-on (docs/sso.md): a verified identity (subject, claims)
 * becomes a Portcullis user and a session. The user is found by the link of (provider, subject); on the first
 * sign-in it is created (provisioning on) or, with provisioning off, an existing user of the same username is
 * linked — an administrator created it for this person (ADR 0227). The provider's mapped groups are synced to
 * its claim on every sign-in; groups outside the provider's map are never touched. Audited as `auth.login`.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { type Actor, record } from '../../audit/record.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { AuthenticationError } from '../../errors.ts';
import { groupMembers, users } from '../../store/schema/identity.ts';
import { externalIdentities } from '../../store/schema/sso.ts';
import { createSession, type NewSession } from '../sessions.ts';
import { USERNAME_MAX_LENGTH, USERNAME_PATTERN } from '../username.ts';
import { getUser, type UserView } from '../users.ts';
import type { ProviderView } from './providers.ts';

/** What a provider asserted about the person, after its signature and audience were checked. */
export interface ExternalIdentity {
  subject: string;
  /** OIDC `sid` or SAML SessionIndex: the provider's session, named again by its logout. */
  sessionId: string | null;
  /** The claims (OIDC) or attributes (SAML), each a string, a number or a list of strings. */
  claims: Record<string, unknown>;
  /** The username to use when no `username_claim` is configured (OIDC `preferred_username`/`email`, SAML NameID). */
  defaultUsername: string | null;
}

export interface SsoSignIn {
  user: UserView;
  session: NewSession;
  /** The grant lifetime the provider asked for (seconds), or undefined for the knoc's default. */
  grantTtlSeconds: number | undefined;
}

/** A password hash no password verifies against: single sign-on users sign in through their provider only. */
const NO_PASSWORD = '!sso';

function failure(message: string): AuthenticationError {
  return new AuthenticationError('sso_failed', message);
}

/** A claim as a list of strings (one string, or a list; anything else is no value). */
export function claimValues(claims: Record<string, unknown>, name: string): string[] {
  const value = claims[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The grant lifetime claim as whole seconds (a number or a numeric string), or undefined. */
export function lifetimeOf(claims: Record<string, unknown>, name: string | null): number | undefined {
  if (name === null) return undefined;
  const raw = Array.isArray(claims[name]) ? (claims[name] as unknown[])[0] : claims[name];
  const seconds = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}

function usernameOf(provider: ProviderView, identity: ExternalIdentity): string {
  const value = provider.usernameClaim
    ? claimValues(identity.claims, provider.usernameClaim)[0]
    : identity.defaultUsername;
  const username = value?.trim().toLowerCase();
  if (!username || username.length > USERNAME_MAX_LENGTH || !USERNAME_PATTERN.test(username)) {
    throw failure(
      `The provider sent no usable username (${provider.usernameClaim ?? 'default claim'}): it must be 1-64 letters, digits or . _ @ -`,
    );
  }
  return username;
}

/** Adds and removes memberships of the provider's mapped groups so they follow the group claim. */
async function syncGroups(tx: ServiceContext, provider: ProviderView, userId: string, claims: Record<string, unknown>) {
  const mapped = new Set(Object.values(provider.groupMap));
  if (mapped.size === 0) return;
  const wanted = new Set(
    claimValues(claims, provider.groupClaim)
      .map((value) => provider.groupMap[value])
      .filter((id): id is string => id !== undefined),
  );
  const current = await tx.db
    .select({ groupId: groupMembers.groupId })
    .from(groupMembers)
    .where(and(eq(groupMembers.userId, userId), inArray(groupMembers.groupId, [...mapped])));
  const held = new Set(current.map((row) => row.groupId));
  const add = [...wanted].filter((id) => !held.has(id));
  const remove = [...held].filter((id) => !wanted.has(id));
  if (add.length > 0) {
    await tx.db.insert(groupMembers).values(add.map((groupId) => ({ orgId: tx.orgId, groupId, userId }))).onConflictDoNothing();
  }
  if (remove.length > 0) {
    await tx.db.delete(groupMembers).where(and(eq(groupMembers.userId, userId), inArray(groupMembers.groupId, remove)));
  }
  for (const [action, list] of [['group.member_add', add], ['group.member_remove', remove]] as const) {
    for (const groupId of list) {
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action,
        targetType: 'group',
        targetId: groupId,
        after: { user_id: userId, provider_id: provider.id },
      });
    }
  }
}

/** The user linked to (provider, subject), linking or creating one on the first sign-in. */
async function linkedUser(tx: ServiceContext, provider: ProviderView, identity: ExternalIdentity): Promise<string> {
  const [link] = await tx.db
    .select({ userId: externalIdentities.userId })
    .from(externalIdentities)
    .where(and(eq(externalIdentities.providerId, provider.id), eq(externalIdentities.subject, identity.subject)))
    .limit(1);
  if (link) {
    await tx.db
      .update(externalIdentities)
      .set({ lastSignInAt: tx.now() })
      .where(and(eq(externalIdentities.providerId, provider.id), eq(externalIdentities.subject, identity.subject)));
    return link.userId;
  }
  const username = usernameOf(provider, identity);
  const [existing] = await tx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, tx.orgId), eq(users.username, username), isNull(users.deletedAt)))
    .limit(1);
  let userId: string;
  if (provider.provision) {
    // Never take over a local account by a claimed name: a provider whose users pick their own name would own it.
    if (existing) throw failure(`A user named ${username} already exists and is not linked to this provider`);
    const email = claimValues(identity.claims, 'email')[0];
    const displayName = claimValues(identity.claims, 'name')[0] ?? '';
    const [created] = await tx.db
      .insert(users)
      .values({
        orgId: tx.orgId,
        username,
        passwordHash: NO_PASSWORD,
        displayName: displayName.slice(0, 200),
        email: email && /^[^\s@]+@[^\s@]+$/.test(email) && email.length <= 254 ? email : null,
      })
      .returning({ id: users.id });
    userId = (created as { id: string }).id;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'user.create',
      targetType: 'user',
      targetId: userId,
      after: { username, provider_id: provider.id, provisioned: true },
    });
  } else {
    if (!existing) throw failure(`No user ${username} exists and this provider does not create users`);
    userId = existing.id;
  }
  await tx.db.insert(externalIdentities).values({
    orgId: tx.orgId,
    providerId: provider.id,
    subject: identity.subject,
    userId,
    createdAt: tx.now(),
    lastSignInAt: tx.now(),
  });
  return userId;
}

export async function signInExternal(
  ctx: ServiceContext,
  provider: ProviderView,
  identity: ExternalIdentity,
  options: { sourceIp: string | null; userAgent: string | null; sessionTtlSeconds?: number },
): Promise<SsoSignIn> {
  const attempted: Actor = { ...ctx.actor, type: 'anonymous', id: null, name: null, sourceIp: options.sourceIp };
  try {
    return await inTransaction({ ...ctx, actor: attempted }, async (tx) => {
      const userId = await linkedUser(tx, provider, identity);
      const user = await getUser(tx, userId);
      if (user.disabled) throw failure('This account is disabled');
      const actor: Actor = { ...attempted, type: 'user', id: user.id, name: user.username };
      const asUser = { ...tx, actor };
      await syncGroups(asUser, provider, user.id, identity.claims);
      const session = await createSession(asUser, user.id, {
        sourceIp: options.sourceIp,
        userAgent: options.userAgent,
        ...(options.sessionTtlSeconds === undefined ? {} : { ttlSeconds: options.sessionTtlSeconds }),
        sso: {
          providerId: provider.id,
          audience: provider.audience,
          subject: identity.subject,
          sessionId: identity.sessionId,
        },
      });
      await record(tx.db, {
        orgId: tx.orgId,
        actor,
        action: 'auth.login',
        targetType: 'user',
        targetId: user.id,
        after: { provider_id: provider.id, provider: provider.name, kind: provider.kind, audience: provider.audience },
        outcome: 'success',
      });
      return { user, session, grantTtlSeconds: lifetimeOf(identity.claims, provider.lifetimeClaim) };
    });
  } catch (err) {
    await recordFailure(ctx, attempted, provider, err instanceof AuthenticationError ? err.message : 'error');
    throw err;
  }
}

/** Audits a refused single sign-on (outside any transaction, so it persists); the message never holds a token. */
export async function recordFailure(ctx: ServiceContext, actor: Actor, provider: Pick<ProviderView, 'id' | 'name'>, reason: string) {
  await record(ctx.db, {
    orgId: ctx.orgId,
    actor,
    action: 'auth.login',
    targetType: 'identity_provider',
    targetId: provider.id,
    after: { provider: provider.name, reason: reason.slice(0, 300) },
    outcome: 'failure',
  });
}

export { failure as ssoFailure };
