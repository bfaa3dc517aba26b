/**
 * @module API tokens: `pc_<prefix>_<secret>`, returned once by `createApiToken`. The prefix (12 base32
 * characters) is stored to find the row; the secret (256 random bits) is stored only as its SHA-256 hash, which
 * is enough for a random value of that size (no password stretching needed). A token acts with the intersection
 * of its own permission list (if any) and its owner's current rights, so it never outlives a demotion.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { AuthenticationError, NotFoundError, ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { apiTokens, users } from '../store/schema/identity.ts';
import { base32Encode } from './base32.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { type EffectivePermissions, resolvePermissions } from './effective.ts';
import type { Permission } from './permissions.ts';
import { requirePermissions } from './roles.ts';
import { randomSecret, sha256Hex } from './sessions.ts';
import { getUser } from './users.ts';
import { requireDate, requireIdOrNotFound, requireName } from '../core/validate.ts';

const TOKEN_PATTERN = /^pc_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
/** `last_used_at` is written at most this often per token. */
const TOUCH_INTERVAL_MS = 60_000;

interface ApiTokenView {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  /** `null`: the owner's rights. */
  permissions: Permission[] | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

const VIEW = {
  id: apiTokens.id,
  userId: apiTokens.userId,
  name: apiTokens.name,
  prefix: apiTokens.prefix,
  permissions: apiTokens.permissions,
  expiresAt: apiTokens.expiresAt,
  revokedAt: apiTokens.revokedAt,
  lastUsedAt: apiTokens.lastUsedAt,
  createdAt: apiTokens.createdAt,
};

interface CreateApiTokenInput {
  /** The owner; the token can never do more than this user. */
  userId: string;
  name: string;
  expiresAt?: Date | null;
  /** Must be a subset of the owner's current permissions. Omitted/`null`: the owner's rights. */
  permissions?: string[] | null;
}

export async function createApiToken(
  ctx: ServiceContext,
  input: CreateApiTokenInput,
): Promise<{ token: string; record: ApiTokenView }> {
  const name = requireName('name', input.name);
  const expiresAt =
    input.expiresAt === undefined || input.expiresAt === null
      ? null
      : requireDate('expires_at', input.expiresAt);
  if (expiresAt && expiresAt <= ctx.now())
    throw new ValidationError('expires_at', 'expires_at must be in the future');
  const permissions =
    input.permissions === undefined || input.permissions === null
      ? null
      : requirePermissions('permissions', input.permissions);
  return inTransaction(ctx, async (tx) => {
    const owner = await getUser(tx, input.userId);
    if (permissions) {
      const rights = await resolvePermissions(tx.db, tx.orgId, owner.id);
      const index = permissions.findIndex((p) => !rights.hasAny(p));
      if (index >= 0) {
        throw new ValidationError(
          `permissions.${index}`,
          `the token owner does not hold ${permissions[index]}`,
        );
      }
    }
    const prefix = base32Encode(randomBytes(8)).slice(0, 12).toLowerCase();
    const secret = randomSecret();
    const [row] = await tx.db
      .insert(apiTokens)
      .values({
        orgId: tx.orgId,
        userId: owner.id,
        name,
        prefix,
        secretHash: sha256Hex(secret),
        permissions,
        expiresAt,
      })
      .returning(VIEW);
    const view = row as ApiTokenView;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'api_token.create',
      targetType: 'api_token',
      targetId: view.id,
      after: { ...view, owner: owner.username },
    });
    return { token: `pc_${prefix}_${secret}`, record: view };
  });
}

export async function listApiTokens(
  ctx: ServiceContext,
  filter: { userId?: string; includeRevoked?: boolean } = {},
): Promise<ApiTokenView[]> {
  return (await ctx.db
    .select(VIEW)
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.orgId, ctx.orgId),
        filter.userId === undefined
          ? undefined
          : eq(apiTokens.userId, requireIdOrNotFound('user', filter.userId)),
        filter.includeRevoked ? undefined : isNull(apiTokens.revokedAt),
      ),
    )
    .orderBy(desc(apiTokens.createdAt))) as ApiTokenView[];
}

export async function getApiToken(ctx: ServiceContext, tokenId: string): Promise<ApiTokenView> {
  const id = requireIdOrNotFound('api token', tokenId);
  const [row] = await ctx.db
    .select(VIEW)
    .from(apiTokens)
    .where(and(eq(apiTokens.id, id), eq(apiTokens.orgId, ctx.orgId)));
  if (!row) throw new NotFoundError('api token', tokenId);
  return row as ApiTokenView;
}

/** Revokes a token (idempotent: revoking a revoked token changes nothing and is not re-audited). */
export async function revokeApiToken(ctx: ServiceContext, tokenId: string): Promise<ApiTokenView> {
  return inTransaction(ctx, async (tx) => {
    const before = await getApiToken(tx, tokenId);
    if (before.revokedAt) return before;
    const [after] = await tx.db
      .update(apiTokens)
      .set({ revokedAt: tx.now() })
      .where(eq(apiTokens.id, before.id))
      .returning(VIEW);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'api_token.revoke',
      targetType: 'api_token',
      targetId: before.id,
      before,
      after,
    });
    return after as ApiTokenView;
  });
}

interface AuthenticatedToken {
  token: ApiTokenView;
  user: { id: string; username: string; orgId: string };
  /** Owner's current rights restricted to the token's list. */
  permissions: EffectivePermissions;
}

/**
 * Resolves a bearer token, or throws `AuthenticationError('token_invalid')` — the same error for malformed,
 * unknown, wrong-secret, expired and revoked tokens and for a disabled or deleted owner.
 */
export async function authenticateApiToken(
  db: Db,
  presented: string,
  now: Date = new Date(),
): Promise<AuthenticatedToken> {
  const invalid = new AuthenticationError('token_invalid', 'API token is invalid, expired or revoked');
  const match = typeof presented === 'string' ? TOKEN_PATTERN.exec(presented) : null;
  if (!match) throw invalid;
  const [, prefix, secret] = match as unknown as [string, string, string];
  const [row] = await db
    .select({
      ...VIEW,
      orgId: apiTokens.orgId,
      secretHash: apiTokens.secretHash,
      username: users.username,
      disabled: users.disabled,
      deletedAt: users.deletedAt,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.prefix, prefix))
    .limit(1);
  if (!row || !timingSafeEqual(Buffer.from(sha256Hex(secret)), Buffer.from(row.secretHash))) throw invalid;
  if (row.revokedAt || (row.expiresAt && row.expiresAt <= now) || row.disabled || row.deletedAt)
    throw invalid;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
  }
  const { orgId, secretHash: _hash, username, disabled: _disabled, deletedAt: _deleted, ...token } = row;
  const rights = await resolvePermissions(db, orgId, row.userId);
  return {
    token: token as ApiTokenView,
    user: { id: row.userId, username, orgId },
    permissions: rights.restrictTo(token.permissions),
  };
}
