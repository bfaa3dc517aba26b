/**
 * @module TOTP enrollment. `beginTotpEnrollment` stores a fresh secret (keyring-encrypted, AAD
 * `users:<id>:totp_secret_enc`) and returns it with its `otpauth://` URI once; `confirmTotpEnrollment` turns it
 * on after one valid code, which also becomes the last used step (no replay of that code at sign-in);
 * `resetTotp` is the recovery when the authenticator is lost.
 */
import { and, isNull, lt, or } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { aadForColumn } from '../secrets/registry.ts';
import { users } from '../store/schema/identity.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { generateTotpSecret, otpauthUri, verifyTotp } from './totp.ts';
import { getUser, liveUser, type UserView } from './users.ts';

const TOTP_COLUMN = { table: users, column: users.totpSecretEnc };

function totpAad(userId: string): string {
  return aadForColumn(TOTP_COLUMN, userId);
}

export async function beginTotpEnrollment(
  ctx: ServiceContext,
  userId: string,
  issuer = 'Portcullis',
): Promise<{ secret: string; otpauthUri: string }> {
  return inTransaction(ctx, async (tx) => {
    const user = await getUser(tx, userId);
    if (user.totpEnabled) throw new ConflictError('TOTP is already active for this user; disable it first');
    const secret = generateTotpSecret();
    await tx.db
      .update(users)
      .set({
        totpSecretEnc: tx.keyring.seal(secret, totpAad(user.id)),
        totpLastStep: null,
        updatedAt: tx.now(),
      })
      .where(liveUser(tx, user.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'user.totp_enroll',
      targetType: 'user',
      targetId: user.id,
    });
    return { secret, otpauthUri: otpauthUri(secret, user.username, issuer) };
  });
}

export async function confirmTotpEnrollment(
  ctx: ServiceContext,
  userId: string,
  code: string,
): Promise<void> {
  await inTransaction(ctx, async (tx) => {
    const user = await getUser(tx, userId);
    if (user.totpEnabled) throw new ConflictError('TOTP is already active for this user');
    const [row] = await tx.db.select({ enc: users.totpSecretEnc }).from(users).where(liveUser(tx, user.id));
    if (!row?.enc) throw new ConflictError('no TOTP enrollment in progress; start one first');
    if (typeof code !== 'string') throw new ValidationError('code', 'code must be a string of 6 digits');
    const step = verifyTotp(tx.keyring.open(row.enc, totpAad(user.id)), code, tx.now(), null);
    if (step === null) throw new ValidationError('code', 'code is not valid for this secret right now');
    await tx.db
      .update(users)
      .set({ totpEnabled: true, totpLastStep: step, updatedAt: tx.now() })
      .where(liveUser(tx, user.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'user.totp_enable',
      targetType: 'user',
      targetId: user.id,
    });
  });
}

/**
 * Recovery for a lost authenticator: turns TOTP off and forgets the secret (and any enrolment in progress),
 * so the user signs in with the password alone and may enrol again. For an admin (`users.manage`) or the
 * owner on the store (`portcullis users reset-totp`); audited as `user.totp_reset` with who did it.
 */
export async function resetTotp(ctx: ServiceContext, userId: string): Promise<UserView> {
  return inTransaction(ctx, async (tx) => {
    const user = await getUser(tx, userId);
    await tx.db
      .update(users)
      .set({ totpEnabled: false, totpSecretEnc: null, totpLastStep: null, updatedAt: tx.now() })
      .where(liveUser(tx, user.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'user.totp_reset',
      targetType: 'user',
      targetId: user.id,
      before: { totp_enabled: user.totpEnabled },
      after: { totp_enabled: false },
    });
    return getUser(tx, user.id);
  });
}

/**
 * Checks a sign-in code for a user with TOTP active and consumes its step atomically, so the same code cannot
 * be used twice even by two concurrent sign-ins. Returns whether the code was accepted.
 */
export async function consumeTotpCode(ctx: ServiceContext, userId: string, code: string): Promise<boolean> {
  const [row] = await ctx.db
    .select({ enc: users.totpSecretEnc, lastStep: users.totpLastStep, enabled: users.totpEnabled })
    .from(users)
    .where(liveUser(ctx, userId));
  if (!row) throw new NotFoundError('user', userId);
  if (!row.enabled || !row.enc) return false;
  const step = verifyTotp(ctx.keyring.open(row.enc, totpAad(userId)), code, ctx.now(), row.lastStep);
  if (step === null) return false;
  const claimed = await ctx.db
    .update(users)
    .set({ totpLastStep: step })
    .where(and(liveUser(ctx, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
    .returning({ id: users.id });
  return claimed.length === 1;
}
