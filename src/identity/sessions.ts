/**
 * @module Browser sessions. `createSession` returns a random 256-bit session secret (for the HttpOnly cookie) and a
 * CSRF token (for the `X-CSRF-Token` header) derived from it by HMAC, so a page reloaded by the browser can get
 * it again from `GET /api/v1/auth/me` instead of keeping it in storage (ADR 0133); only SHA-256 hashes are stored. A session
 * ends at `expiresAt`, on sign-out, and whenever its user is disabled, deleted or changes password.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { AuthenticationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { sessions, users } from '../store/schema/identity.ts';
import type { ServiceContext } from '../core/context.ts';
import { requireIdOrNotFound } from '../core/validate.ts';

const DEFAULT_SESSION_TTL_SECONDS = 12 * 60 * 60;
/** `last_seen_at` is written at most this often, so authenticated reads rarely cost a write. */
const TOUCH_INTERVAL_MS = 60_000;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The session's CSRF token: HMAC-SHA256 keyed by the session secret (one-way; reveals nothing of the secret). */
export function csrfTokenFor(sessionSecret: string): string {
  return createHmac('sha256', sessionSecret).update('portcullis csrf v1').digest('base64url');
}

export interface NewSession {
  id: string;
  /** Cookie value. Shown once; only its hash is stored. */
  secret: string;
  /** Value the client echoes in `X-CSRF-Token`. Shown once; only its hash is stored. */
  csrfToken: string;
  expiresAt: Date;
}

interface ValidSession {
  id: string;
  userId: string;
  orgId: string;
  username: string;
  expiresAt: Date;
  csrfHash: string;
  /** `portal` or `console` for a single sign-on session, null for a local one. */
  audience: string | null;
}

/** Where a single sign-on session came from, so the provider's logout can end it (docs/sso.md). */
export interface SsoOrigin {
  providerId: string;
  audience: 'portal' | 'console';
  subject: string;
  sessionId: string | null;
}

export async function createSession(
  ctx: ServiceContext,
  userId: string,
  options: { sourceIp?: string | null; userAgent?: string | null; ttlSeconds?: number; sso?: SsoOrigin } = {},
): Promise<NewSession> {
  const secret = randomSecret();
  const csrfToken = csrfTokenFor(secret);
  const expiresAt = new Date(
    ctx.now().getTime() + (options.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS) * 1000,
  );
  const [row] = await ctx.db
    .insert(sessions)
    .values({
      orgId: ctx.orgId,
      userId,
      tokenHash: sha256Hex(secret),
      csrfHash: sha256Hex(csrfToken),
      sourceIp: options.sourceIp ?? null,
      userAgent: options.userAgent?.slice(0, 500) ?? null,
      createdAt: ctx.now(),
      lastSeenAt: ctx.now(),
      expiresAt,
      ...(options.sso
        ? {
            providerId: options.sso.providerId,
            audience: options.sso.audience,
            ssoSubject: options.sso.subject,
            ssoSessionId: options.sso.sessionId,
          }
        : {}),
    })
    .returning({ id: sessions.id });
  return { id: (row as { id: string }).id, secret, csrfToken, expiresAt };
}

/**
 * The live session for a cookie value, or `AuthenticationError('session_invalid')` when it is unknown,
 * expired, revoked, or its user is disabled or deleted.
 */
export async function validateSession(db: Db, secret: string, now: Date = new Date()): Promise<ValidSession> {
  const invalid = new AuthenticationError(
    'session_invalid',
    'Session is invalid or has expired; sign in again',
  );
  if (typeof secret !== 'string' || secret.length < 16 || secret.length > 100) throw invalid;
  const [row] = await db
    .select({
      id: sessions.id,
      userId: sessions.userId,
      orgId: sessions.orgId,
      username: users.username,
      expiresAt: sessions.expiresAt,
      revokedAt: sessions.revokedAt,
      lastSeenAt: sessions.lastSeenAt,
      csrfHash: sessions.csrfHash,
      audience: sessions.audience,
      disabled: users.disabled,
      deletedAt: users.deletedAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.tokenHash, sha256Hex(secret)))
    .limit(1);
  if (!row || row.revokedAt || row.expiresAt <= now || row.disabled || row.deletedAt) throw invalid;
  if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, row.id));
  }
  return {
    id: row.id,
    userId: row.userId,
    orgId: row.orgId,
    username: row.username,
    expiresAt: row.expiresAt,
    csrfHash: row.csrfHash,
    audience: row.audience,
  };
}

/** Constant-time check of the `X-CSRF-Token` header against the session's stored hash. */
export function verifyCsrf(session: Pick<ValidSession, 'csrfHash'>, token: string | undefined): boolean {
  if (typeof token !== 'string' || token.length === 0 || token.length > 100) return false;
  return timingSafeEqual(Buffer.from(sha256Hex(token)), Buffer.from(session.csrfHash));
}

/** Signs one session out (idempotent). Audited as `auth.logout`. */
export async function revokeSession(ctx: ServiceContext, sessionId: string): Promise<void> {
  const id = requireIdOrNotFound('session', sessionId);
  const revoked = await ctx.db
    .update(sessions)
    .set({ revokedAt: ctx.now() })
    .where(and(eq(sessions.id, id), eq(sessions.orgId, ctx.orgId), isNull(sessions.revokedAt)))
    .returning({ userId: sessions.userId });
  if (revoked[0]) {
    await record(ctx.db, {
      orgId: ctx.orgId,
      actor: ctx.actor,
      action: 'auth.logout',
      targetType: 'session',
      targetId: id,
    });
  }
}

/** Ends every live session of a user (disable, delete, password change). Returns how many were ended. */
export async function revokeUserSessions(db: Db, userId: string, now: Date = new Date()): Promise<number> {
  const revoked = await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return revoked.length;
}
