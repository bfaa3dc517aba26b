/**
 * @module Groups: named sets of users that role bindings (and later knocs) can target. Deleting a group removes
 * its memberships and bindings (cascade). Membership is managed in users.ts.
 */
import { and, asc, eq } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { NotFoundError } from '../errors.ts';
import { groups } from '../store/schema/identity.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { createNamed, type NamedChanges, type NamedKind, type NamedView, updateNamed } from './named.ts';
import { preservingAnOwner } from './owners.ts';
import { paging } from '../core/paging.ts';
import { requireIdOrNotFound } from '../core/validate.ts';

type GroupView = NamedView;

const VIEW = {
  id: groups.id,
  name: groups.name,
  description: groups.description,
  createdAt: groups.createdAt,
  updatedAt: groups.updatedAt,
};

const GROUPS: NamedKind = {
  type: 'group',
  auditsAsSite: false,
  insert: (tx, values) => tx.db.insert(groups).values({ orgId: tx.orgId, ...values }).returning(VIEW),
  update: (tx, id, changes) =>
    tx.db
      .update(groups)
      .set({ ...changes, updatedAt: tx.now() })
      .where(and(eq(groups.id, id), eq(groups.orgId, tx.orgId)))
      .returning(VIEW),
  get: (tx, id) => getGroup(tx, id),
};

export function createGroup(
  ctx: ServiceContext,
  input: { name: string; description?: string },
): Promise<GroupView> {
  return createNamed(ctx, GROUPS, input);
}

export async function getGroup(ctx: ServiceContext, groupId: string): Promise<GroupView> {
  const id = requireIdOrNotFound('group', groupId);
  const [group] = await ctx.db
    .select(VIEW)
    .from(groups)
    .where(and(eq(groups.id, id), eq(groups.orgId, ctx.orgId)))
    .limit(1);
  if (!group) throw new NotFoundError('group', groupId);
  return group;
}

export async function listGroups(
  ctx: ServiceContext,
  options: { limit?: number; offset?: number } = {},
): Promise<GroupView[]> {
  const { limit, offset } = paging(options);
  return ctx.db
    .select(VIEW)
    .from(groups)
    .where(eq(groups.orgId, ctx.orgId))
    .orderBy(asc(groups.name))
    .limit(limit)
    .offset(offset);
}

export function updateGroup(ctx: ServiceContext, groupId: string, input: NamedChanges): Promise<GroupView> {
  return updateNamed(ctx, GROUPS, groupId, input);
}

export async function deleteGroup(ctx: ServiceContext, groupId: string): Promise<void> {
  const id = requireIdOrNotFound('group', groupId);
  await inTransaction(ctx, (tx) =>
    preservingAnOwner(tx, async () => {
      const before = await getGroup(tx, id);
      await tx.db.delete(groups).where(and(eq(groups.id, id), eq(groups.orgId, tx.orgId)));
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action: 'group.delete',
        targetType: 'group',
        targetId: id,
        before,
      });
    }),
  );
}
