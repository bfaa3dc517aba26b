/**
 * @module Groups: named sets of users that role bindings (and later knocs) can target. Deleting a group removes
 * its memberships and bindings (cascade). Membership is managed in users.ts.
 */
import { and, asc, eq } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { NotFoundError } from '../errors.ts';
import { groups } from '../store/schema/identity.ts';
import { inTransaction, type ServiceContext } from './context.ts';
import { preservingAnOwner } from './owners.ts';
import { paging } from './users.ts';
import { optionalString, requireIdOrNotFound, requireName, requireString, uniquely } from './validate.ts';

export interface GroupView {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

const VIEW = {
  id: groups.id,
  name: groups.name,
  description: groups.description,
  createdAt: groups.createdAt,
  updatedAt: groups.updatedAt,
};

const taken = (name: string) => `a group named ${JSON.stringify(name)} already exists`;

export async function createGroup(
  ctx: ServiceContext,
  input: { name: string; description?: string },
): Promise<GroupView> {
  const name = requireName('name', input.name);
  const description = optionalString('description', input.description, 1000) ?? '';
  return inTransaction(ctx, async (tx) => {
    const [group] = await uniquely('name', taken(name), () =>
      tx.db.insert(groups).values({ orgId: tx.orgId, name, description }).returning(VIEW),
    );
    const view = group as GroupView;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'group.create',
      targetType: 'group',
      targetId: view.id,
      after: view,
    });
    return view;
  });
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

export async function updateGroup(
  ctx: ServiceContext,
  groupId: string,
  input: { name?: string; description?: string },
): Promise<GroupView> {
  const id = requireIdOrNotFound('group', groupId);
  const changes: Partial<typeof groups.$inferInsert> = {};
  if (input.name !== undefined) changes.name = requireName('name', input.name);
  if (input.description !== undefined)
    changes.description = requireString('description', input.description, { min: 0, max: 1000 });
  return inTransaction(ctx, async (tx) => {
    const before = await getGroup(tx, id);
    const [after] = await uniquely('name', taken(changes.name ?? ''), () =>
      tx.db
        .update(groups)
        .set({ ...changes, updatedAt: tx.now() })
        .where(and(eq(groups.id, id), eq(groups.orgId, tx.orgId)))
        .returning(VIEW),
    );
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'group.update',
      targetType: 'group',
      targetId: id,
      before,
      after,
    });
    return after as GroupView;
  });
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
