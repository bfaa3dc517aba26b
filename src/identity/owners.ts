/**
 * @module Lock-out protection: a change may not leave an org that had an active owner without one. Used by
 * every change that can take the owner role away (delete/disable user, delete binding, group membership, group).
 */
import { and, countDistinct, eq, isNull, or } from 'drizzle-orm';
import { ConflictError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { groupMembers, roleBindings, roles, users } from '../store/schema/identity.ts';
import type { ServiceContext } from '../core/context.ts';

/** Live, enabled users holding the built-in owner role on all sites, directly or through a group. */
export async function countActiveOwners(db: Db, orgId: string): Promise<number> {
  const ownerBindings = db
    .select({ userId: roleBindings.userId, groupId: roleBindings.groupId })
    .from(roleBindings)
    .innerJoin(roles, eq(roles.id, roleBindings.roleId))
    .where(
      and(
        eq(roleBindings.orgId, orgId),
        eq(roles.name, 'owner'),
        eq(roles.builtin, true),
        isNull(roleBindings.siteIds),
      ),
    )
    .as('owner_bindings');
  const [row] = await db
    .select({ n: countDistinct(users.id) })
    .from(users)
    .leftJoin(groupMembers, eq(groupMembers.userId, users.id))
    .innerJoin(
      ownerBindings,
      or(eq(ownerBindings.userId, users.id), eq(ownerBindings.groupId, groupMembers.groupId)),
    )
    .where(and(eq(users.orgId, orgId), isNull(users.deletedAt), eq(users.disabled, false)));
  return Number(row?.n ?? 0);
}

/** Runs `change` (inside the caller's transaction) and undoes it by throwing if it removed the last owner. */
export async function preservingAnOwner<T>(ctx: ServiceContext, change: () => Promise<T>): Promise<T> {
  const before = await countActiveOwners(ctx.db, ctx.orgId);
  const result = await change();
  if (before > 0 && (await countActiveOwners(ctx.db, ctx.orgId)) === 0) {
    throw new ConflictError('this change would leave the organisation without an active owner');
  }
  return result;
}
