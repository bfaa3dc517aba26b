/**
 * @module Password (+ TOTP) sign-in. One answer — `AuthenticationError('invalid_credentials')` — for an unknown
 * user, a wrong password, and a disabled account, with comparable timing (unknown users are checked against a
 * dummy scrypt hash). Attempts are counted per user and per source IP in the store before the password is
 * hashed, and throttled there (throttle.ts); hashing itself is bounded (password.ts). Every
 * attempt is audited as `auth.login`; failures are written outside any transaction so they persist.
 */

import { and, eq, isNull } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { AuthenticationError, RateLimitedError, ValidationError } from '../errors.ts';
import { users } from '../store/schema/identity.ts';
import type { ServiceContext } from '../core/context.ts';
import { consumeTotpCode } from './mfa.ts';
import { MAX_PASSWORD_LENGTH, verifyAgainstDummy, verifyPassword } from './password.ts';
import { createSession, type NewSession } from './sessions.ts';
import {
  claimAttempt,
  clearFailures,
  DEFAULT_THROTTLE,
  ipKey,
  releaseAttempt,
  type ThrottleLimits,
  userKey,
} from './throttle.ts';
import { getUser, type UserView } from './users.ts';

interface LoginInput {
  username: string;
  password: string;
  totpCode?: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

interface LoginOptions {
  throttle?: ThrottleLimits;
  sessionTtlSeconds?: number;
}

interface LoginResult {
  user: UserView;
  session: NewSession;
}

const USERNAME_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export async function login(
  ctx: ServiceContext,
  input: LoginInput,
  options: LoginOptions = {},
): Promise<LoginResult> {
  if (typeof input.username !== 'string' || input.username.length === 0 || input.username.length > 200) {
    throw new ValidationError('username', 'username must be a non-empty string of at most 200 characters');
  }
  if (
    typeof input.password !== 'string' ||
    input.password.length === 0 ||
    input.password.length > MAX_PASSWORD_LENGTH
  ) {
    throw new ValidationError(
      'password',
      `password must be a non-empty string of at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  if (input.totpCode !== undefined && typeof input.totpCode !== 'string') {
    throw new ValidationError('totp_code', 'totp_code must be a string');
  }
  const limits = options.throttle ?? DEFAULT_THROTTLE;
  const now = ctx.now();
  const username = input.username.toLowerCase();
  const sourceIp = input.sourceIp ?? null;
  const keys = [{ key: userKey(ctx.orgId, username), limit: limits.perUser }];
  if (sourceIp) keys.push({ key: ipKey(sourceIp), limit: limits.perIp });
  // Never log what was typed as a username unless it looks like one (people paste passwords there).
  const attempted = {
    ...ctx.actor,
    type: 'anonymous' as const,
    id: null,
    name: USERNAME_SHAPE.test(username) ? username : null,
    sourceIp: sourceIp ?? ctx.actor.sourceIp,
  };
  const audit = (outcome: 'success' | 'failure' | 'denied', userId: string | null, reason?: string) =>
    record(ctx.db, {
      orgId: ctx.orgId,
      actor: userId ? { ...attempted, type: 'user', id: userId } : attempted,
      action: 'auth.login',
      targetType: 'user',
      targetId: userId,
      after: reason ? { reason } : undefined,
      outcome,
    });

  try {
    // Counted before the hash: a parallel burst cannot pass the check before any attempt is counted.
    await claimAttempt(ctx.db, keys, limits, now);
  } catch (err) {
    if (err instanceof RateLimitedError) await audit('denied', null, 'rate_limited');
    throw err;
  }

  const [candidate] = await ctx.db
    .select({
      id: users.id,
      passwordHash: users.passwordHash,
      disabled: users.disabled,
      totpEnabled: users.totpEnabled,
    })
    .from(users)
    .where(and(eq(users.orgId, ctx.orgId), eq(users.username, username), isNull(users.deletedAt)))
    .limit(1);
  let passwordOk: boolean;
  try {
    // A single sign-on user has no password hash: burn the same time as for an unknown user.
    passwordOk = candidate?.passwordHash.startsWith('scrypt$')
      ? await verifyPassword(input.password, candidate.passwordHash)
      : await verifyAgainstDummy(input.password);
  } catch (err) {
    if (err instanceof RateLimitedError) await audit('denied', null, 'busy');
    throw err;
  }

  const fail = async (
    code: 'invalid_credentials' | 'invalid_totp',
    userId: string | null,
    reason: string,
  ) => {
    await audit('failure', userId, reason);
    return new AuthenticationError(
      code,
      code === 'invalid_totp'
        ? 'The one-time code is invalid or was already used'
        : 'Invalid username or password',
    );
  };

  if (!candidate || !passwordOk || candidate.disabled) {
    const reason = !candidate ? 'unknown_user' : !passwordOk ? 'bad_password' : 'disabled';
    throw await fail('invalid_credentials', candidate?.id ?? null, reason);
  }
  if (candidate.totpEnabled) {
    if (input.totpCode === undefined || input.totpCode === '') {
      // The right password without its code is the first half of a sign-in, not a failed guess.
      await releaseAttempt(
        ctx.db,
        keys.map((k) => k.key),
      );
      await audit('failure', candidate.id, 'totp_required');
      throw new AuthenticationError(
        'totp_required',
        'A one-time code (totp_code) is required for this account',
      );
    }
    if (!(await consumeTotpCode(ctx, candidate.id, input.totpCode))) {
      throw await fail('invalid_totp', candidate.id, 'bad_totp');
    }
  }

  const [user, ...others] = keys;
  await clearFailures(ctx.db, user?.key as string);
  await releaseAttempt(
    ctx.db,
    others.map((k) => k.key),
  );
  const session = await createSession(ctx, candidate.id, {
    sourceIp,
    userAgent: input.userAgent ?? null,
    ...(options.sessionTtlSeconds === undefined ? {} : { ttlSeconds: options.sessionTtlSeconds }),
  });
  await audit('success', candidate.id);
  return { user: await getUser(ctx, candidate.id), session };
}

/**
 * Re-authentication before a security change of one's own account (password, TOTP): checks `password`
 * against the user's current one, counted on the user's sign-in budget before hashing so a stolen session
 * cannot guess it. A wrong password is a `ValidationError` on `field`.
 */
export async function confirmCurrentPassword(
  ctx: ServiceContext,
  user: { id: string; username: string },
  password: string,
  field = 'current_password',
  limits: ThrottleLimits = DEFAULT_THROTTLE,
): Promise<void> {
  const key = userKey(ctx.orgId, user.username);
  await claimAttempt(ctx.db, [{ key, limit: limits.perUser }], limits, ctx.now());
  const [row] = await ctx.db
    .select({ hash: users.passwordHash })
    .from(users)
    .where(and(eq(users.id, user.id), eq(users.orgId, ctx.orgId), isNull(users.deletedAt)));
  if (!row || !(await verifyPassword(password, row.hash))) {
    throw new ValidationError(field, `${field} is not your current password`);
  }
  await clearFailures(ctx.db, key);
}
