/**
 * @module Users and group membership. Every change is audited in the same transaction. Views never include
 * the password hash or the TOTP secret. Deleting is soft (`deleted_at`), frees the username, and — like
 * disabling or a password change — ends the user's sessions; deleting also revokes their API tokens.
 */
import { and, asc, eq, ilike, isNull, or, type SQL } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { apiTokens, groupMembers, groups, users } from '../store/schema/identity.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { preservingAnOwner } from './owners.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from './password.ts';
import { revokeUserSessions } from './sessions.ts';
import { normalizeUsername } from './username.ts';
import { paging } from '../core/paging.ts';
import {
  optionalString,
  requireBoolean,
  requireIdOrNotFound,
  requireString,
  requireUuid,
  uniquely,
} from '../core/validate.ts';

const MIN_PASSWORD_LENGTH = 12;

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  disabled: boolean;
  totpEnabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface CreateUserInput {
  username: string;
  password: string;
  displayName?: string;
  email?: string | null;
  disabled?: boolean;
}

interface UpdateUserInput {
  displayName?: string;
  email?: string | null;
  disabled?: boolean;
}

interface ListUsersOptions {
  /** Case-insensitive substring of username or display name. */
  search?: string;
  limit?: number;
  offset?: number;
}

const VIEW = {
  id: users.id,
  username: users.username,
  displayName: users.displayName,
  email: users.email,
  disabled: users.disabled,
  totpEnabled: users.totpEnabled,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function validatePassword(value: unknown, field = 'password'): string {
  return requireString(field, value, { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH });
}

function validateEmail(value: unknown): string | null {
  if (value === null) return null;
  return requireString('email', value, { max: 254, pattern: EMAIL, hint: 'must be an e-mail address' });
}

export function liveUser(ctx: ServiceContext, id: string): SQL {
  return and(eq(users.id, id), eq(users.orgId, ctx.orgId), isNull(users.deletedAt)) as SQL;
}

export async function createUser(ctx: ServiceContext, input: CreateUserInput): Promise<UserView> {
  const username = normalizeUsername(input.username);
  const password = validatePassword(input.password);
  const displayName = optionalString('display_name', input.displayName, 200) ?? '';
  const email = input.email === undefined ? null : validateEmail(input.email);
  const disabled = input.disabled === undefined ? false : requireBoolean('disabled', input.disabled);
  const passwordHash = await hashPassword(password);
  return inTransaction(ctx, async (tx) => {
    const [user] = await uniquely('username', `username ${JSON.stringify(username)} is already taken`, () =>
      tx.db
        .insert(users)
        .values({ orgId: tx.orgId, username, passwordHash, displayName, email, disabled })
        .returning(VIEW),
    );
    const view = user as UserView;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'user.create',
      targetType: 'user',
      targetId: view.id,
      after: view,
    });
    return view;
  });
}

export async function getUser(ctx: ServiceContext, userId: string): Promise<UserView> {
  const id = requireIdOrNotFound('user', userId);
  const [user] = await ctx.db.select(VIEW).from(users).where(liveUser(ctx, id)).limit(1);
  if (!user) throw new NotFoundError('user', userId);
  return user;
}

/** Live user by username (case-insensitive), or `null`. */
export async function findUserByUsername(ctx: ServiceContext, username: string): Promise<UserView | null> {
  const [user] = await ctx.db
    .select(VIEW)
    .from(users)
    .where(
      and(eq(users.orgId, ctx.orgId), eq(users.username, username.toLowerCase()), isNull(users.deletedAt)),
    )
    .limit(1);
  return user ?? null;
}

export async function listUsers(ctx: ServiceContext, options: ListUsersOptions = {}): Promise<UserView[]> {
  const { limit, offset } = paging(options);
  const where: (SQL | undefined)[] = [eq(users.orgId, ctx.orgId), isNull(users.deletedAt)];
  if (options.search !== undefined) {
    const pattern = `%${requireString('search', options.search, { max: 100 }).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(or(ilike(users.username, pattern), ilike(users.displayName, pattern)));
  }
  return ctx.db
    .select(VIEW)
    .from(users)
    .where(and(...where))
    .orderBy(asc(users.username))
    .limit(limit)
    .offset(offset);
}

export async function updateUser(
  ctx: ServiceContext,
  userId: string,
  input: UpdateUserInput,
): Promise<UserView> {
  const id = requireIdOrNotFound('user', userId);
  const changes: Partial<typeof users.$inferInsert> = {};
  if (input.displayName !== undefined)
    changes.displayName = requireString('display_name', input.displayName, { min: 0 });
  if (input.email !== undefined) changes.email = validateEmail(input.email);
  if (input.disabled !== undefined) changes.disabled = requireBoolean('disabled', input.disabled);
  return inTransaction(ctx, (tx) =>
    preservingAnOwner(tx, async () => {
      const before = await getUser(tx, id);
      const [after] = await tx.db
        .update(users)
        .set({ ...changes, updatedAt: tx.now() })
        .where(liveUser(tx, id))
        .returning(VIEW);
      if (!after) throw new NotFoundError('user', userId);
      if (after.disabled && !before.disabled) await revokeUserSessions(tx.db, id, tx.now());
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action: 'user.update',
        targetType: 'user',
        targetId: id,
        before,
        after,
      });
      return after;
    }),
  );
}

export function disableUser(ctx: ServiceContext, userId: string): Promise<UserView> {
  return updateUser(ctx, userId, { disabled: true });
}

/** Sets a new password and ends every session of the user. */
export async function setPassword(ctx: ServiceContext, userId: string, password: string): Promise<void> {
  const id = requireIdOrNotFound('user', userId);
  const passwordHash = await hashPassword(validatePassword(password));
  await inTransaction(ctx, async (tx) => {
    const updated = await tx.db
      .update(users)
      .set({ passwordHash, passwordChangedAt: tx.now(), updatedAt: tx.now() })
      .where(liveUser(tx, id))
      .returning({ id: users.id });
    if (!updated[0]) throw new NotFoundError('user', userId);
    await revokeUserSessions(tx.db, id, tx.now());
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'user.password_change',
      targetType: 'user',
      targetId: id,
    });
  });
}

/** A user changing their own password: the current one must be right (`current_password`), then as `setPassword`. */
export async function changePassword(
  ctx: ServiceContext,
  userId: string,
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  const id = requireIdOrNotFound('user', userId);
  validatePassword(newPassword);
  if (typeof currentPassword !== 'string' || currentPassword.length > MAX_PASSWORD_LENGTH) {
    throw new ValidationError('current_password', 'current_password must be a string');
  }
  const [row] = await ctx.db
    .select({ hash: users.passwordHash })
    .from(users)
    .where(liveUser(ctx, id))
    .limit(1);
  if (!row) throw new NotFoundError('user', userId);
  if (!(await verifyPassword(currentPassword, row.hash))) {
    throw new ValidationError('current_password', 'current_password is not correct');
  }
  await setPassword(ctx, id, newPassword);
}

/** Soft-deletes the user, ends their sessions and revokes their API tokens. */
export async function deleteUser(ctx: ServiceContext, userId: string): Promise<void> {
  const id = requireIdOrNotFound('user', userId);
  await inTransaction(ctx, (tx) =>
    preservingAnOwner(tx, async () => {
      const before = await getUser(tx, id);
      if (tx.actor.type === 'user' && tx.actor.id === id) {
        throw new ConflictError('you cannot delete your own account');
      }
      await tx.db.update(users).set({ deletedAt: tx.now(), updatedAt: tx.now() }).where(liveUser(tx, id));
      await revokeUserSessions(tx.db, id, tx.now());
      await tx.db
        .update(apiTokens)
        .set({ revokedAt: tx.now() })
        .where(and(eq(apiTokens.userId, id), isNull(apiTokens.revokedAt)));
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action: 'user.delete',
        targetType: 'user',
        targetId: id,
        before,
      });
    }),
  );
}

export async function addGroupMember(ctx: ServiceContext, groupId: string, userId: string): Promise<void> {
  const gid = requireIdOrNotFound('group', groupId);
  const uid = requireUuid('user_id', userId);
  await inTransaction(ctx, async (tx) => {
    await requireGroup(tx, gid);
    await getUser(tx, uid);
    const inserted = await tx.db
      .insert(groupMembers)
      .values({ orgId: tx.orgId, groupId: gid, userId: uid })
      .onConflictDoNothing()
      .returning({ userId: groupMembers.userId });
    if (inserted[0]) {
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action: 'group.member_add',
        targetType: 'group',
        targetId: gid,
        after: { user_id: uid },
      });
    }
  });
}

export async function removeGroupMember(ctx: ServiceContext, groupId: string, userId: string): Promise<void> {
  const gid = requireIdOrNotFound('group', groupId);
  const uid = requireIdOrNotFound('user', userId);
  await inTransaction(ctx, (tx) =>
    preservingAnOwner(tx, async () => {
      await requireGroup(tx, gid);
      const removed = await tx.db
        .delete(groupMembers)
        .where(and(eq(groupMembers.groupId, gid), eq(groupMembers.userId, uid)))
        .returning({ userId: groupMembers.userId });
      if (!removed[0]) throw new NotFoundError('group member', uid);
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action: 'group.member_remove',
        targetType: 'group',
        targetId: gid,
        before: { user_id: uid },
      });
    }),
  );
}

export async function listGroupMembers(ctx: ServiceContext, groupId: string): Promise<UserView[]> {
  const gid = requireIdOrNotFound('group', groupId);
  await requireGroup(ctx, gid);
  return ctx.db
    .select(VIEW)
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(and(eq(groupMembers.groupId, gid), isNull(users.deletedAt)))
    .orderBy(asc(users.username));
}

async function requireGroup(ctx: ServiceContext, id: string): Promise<void> {
  const [group] = await ctx.db
    .select({ id: groups.id })
    .from(groups)
    .where(and(eq(groups.id, id), eq(groups.orgId, ctx.orgId)))
    .limit(1);
  if (!group) throw new NotFoundError('group', id);
}
