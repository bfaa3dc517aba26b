/**
 * @module Roles and role bindings. Custom roles bundle codes from the permission catalog; built-in roles
 * (viewer, operator, admin, owner) come from permissions.ts, are synced by `ensureBuiltinRoles` and cannot be
 * changed or deleted. A binding gives a role to a user or a group, for every site or only for listed sites.
 */
import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { groups, roleBindings, roles, users } from '../store/schema/identity.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { preservingAnOwner } from './owners.ts';
import { BUILTIN_ROLES, isPermission, type Permission } from './permissions.ts';
import { requireSiteIds } from './sites.ts';
import { liveUser } from './users.ts';
import { optionalString, requireIdOrNotFound, requireString, requireUuid, uniquely } from '../core/validate.ts';

interface RoleView {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  permissions: Permission[];
  createdAt: Date;
  updatedAt: Date;
}

interface RoleBindingView {
  id: string;
  roleId: string;
  roleName: string;
  userId: string | null;
  groupId: string | null;
  /** `null`: all sites. */
  siteIds: string[] | null;
  createdAt: Date;
}

const VIEW = {
  id: roles.id,
  name: roles.name,
  description: roles.description,
  builtin: roles.builtin,
  permissions: roles.permissions,
  createdAt: roles.createdAt,
  updatedAt: roles.updatedAt,
};

const ROLE_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

/** Validates a permission list against the catalog; de-duplicated and sorted. */
export function requirePermissions(field: string, value: unknown): Permission[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `${field} must be a list of permission codes`);
  if (value.length > 200) throw new ValidationError(field, `${field} must list at most 200 codes`);
  value.forEach((code, i) => {
    if (typeof code !== 'string' || !isPermission(code)) {
      throw new ValidationError(`${field}.${i}`, `${JSON.stringify(code)} is not a permission code`);
    }
  });
  return [...new Set(value as Permission[])].sort();
}

function roleName(value: unknown): string {
  return requireString('name', value, {
    max: 64,
    pattern: ROLE_NAME,
    hint: 'must be lower-case letters, digits and . _ - (starting with a letter or digit)',
  });
}

/** Creates or updates the built-in roles of an org to match permissions.ts. Idempotent; run at start. */
export async function ensureBuiltinRoles(db: Db, orgId: string): Promise<void> {
  for (const role of BUILTIN_ROLES) {
    await db
      .insert(roles)
      .values({
        orgId,
        name: role.name,
        description: role.description,
        builtin: true,
        permissions: [...role.permissions],
      })
      .onConflictDoUpdate({
        target: [roles.orgId, roles.name],
        set: { description: role.description, builtin: true, permissions: [...role.permissions] },
      });
  }
}

export async function createRole(
  ctx: ServiceContext,
  input: { name: string; description?: string; permissions: string[] },
): Promise<RoleView> {
  const name = roleName(input.name);
  const description = optionalString('description', input.description, 1000) ?? '';
  const permissions = requirePermissions('permissions', input.permissions);
  return inTransaction(ctx, async (tx) => {
    const [role] = await uniquely('name', `a role named ${JSON.stringify(name)} already exists`, () =>
      tx.db.insert(roles).values({ orgId: tx.orgId, name, description, permissions }).returning(VIEW),
    );
    const view = role as RoleView;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'role.create',
      targetType: 'role',
      targetId: view.id,
      after: view,
    });
    return view;
  });
}

export async function getRole(ctx: ServiceContext, roleId: string): Promise<RoleView> {
  const id = requireIdOrNotFound('role', roleId);
  const [role] = await ctx.db
    .select(VIEW)
    .from(roles)
    .where(and(eq(roles.id, id), eq(roles.orgId, ctx.orgId)))
    .limit(1);
  if (!role) throw new NotFoundError('role', roleId);
  return role as RoleView;
}

export async function listRoles(ctx: ServiceContext): Promise<RoleView[]> {
  return (await ctx.db
    .select(VIEW)
    .from(roles)
    .where(eq(roles.orgId, ctx.orgId))
    .orderBy(asc(roles.name))) as RoleView[];
}

async function requireCustomRole(ctx: ServiceContext, id: string): Promise<RoleView> {
  const role = await getRole(ctx, id);
  if (role.builtin) throw new ConflictError(`built-in role ${role.name} cannot be changed or deleted`);
  return role;
}

export async function updateRole(
  ctx: ServiceContext,
  roleId: string,
  input: { name?: string; description?: string; permissions?: string[] },
): Promise<RoleView> {
  const id = requireIdOrNotFound('role', roleId);
  const changes: Partial<typeof roles.$inferInsert> = {};
  if (input.name !== undefined) changes.name = roleName(input.name);
  if (input.description !== undefined)
    changes.description = requireString('description', input.description, { min: 0, max: 1000 });
  if (input.permissions !== undefined)
    changes.permissions = requirePermissions('permissions', input.permissions);
  return inTransaction(ctx, async (tx) => {
    const before = await requireCustomRole(tx, id);
    const [after] = await uniquely(
      'name',
      `a role named ${JSON.stringify(changes.name)} already exists`,
      () =>
        tx.db
          .update(roles)
          .set({ ...changes, updatedAt: tx.now() })
          .where(eq(roles.id, id))
          .returning(VIEW),
    );
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'role.update',
      targetType: 'role',
      targetId: id,
      before,
      after,
    });
    return after as RoleView;
  });
}

/** Deletes a custom role and its bindings. */
export async function deleteRole(ctx: ServiceContext, roleId: string): Promise<void> {
  const id = requireIdOrNotFound('role', roleId);
  await inTransaction(ctx, async (tx) => {
    const before = await requireCustomRole(tx, id);
    await tx.db.delete(roles).where(eq(roles.id, id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'role.delete',
      targetType: 'role',
      targetId: id,
      before,
    });
  });
}

interface CreateRoleBindingInput {
  roleId: string;
  /** Exactly one of `userId` and `groupId`. */
  userId?: string | null;
  groupId?: string | null;
  /** Omitted or `null`: all sites. */
  siteIds?: string[] | null;
}

const BINDING_VIEW = {
  id: roleBindings.id,
  roleId: roleBindings.roleId,
  roleName: roles.name,
  userId: roleBindings.userId,
  groupId: roleBindings.groupId,
  siteIds: roleBindings.siteIds,
  createdAt: roleBindings.createdAt,
};

export async function createRoleBinding(
  ctx: ServiceContext,
  input: CreateRoleBindingInput,
): Promise<RoleBindingView> {
  const roleId = requireUuid('role_id', input.roleId);
  const hasUser = input.userId !== undefined && input.userId !== null;
  const hasGroup = input.groupId !== undefined && input.groupId !== null;
  if (hasUser === hasGroup) throw new ValidationError('user_id', 'give exactly one of user_id and group_id');
  const userId = hasUser ? requireUuid('user_id', input.userId) : null;
  const groupId = hasGroup ? requireUuid('group_id', input.groupId) : null;
  return inTransaction(ctx, async (tx) => {
    const [role] = await tx.db
      .select({ id: roles.id })
      .from(roles)
      .where(and(eq(roles.id, roleId), eq(roles.orgId, tx.orgId)));
    if (!role) throw new ValidationError('role_id', `role ${roleId} does not exist`);
    if (userId) {
      const [user] = await tx.db.select({ id: users.id }).from(users).where(liveUser(tx, userId));
      if (!user) throw new ValidationError('user_id', `user ${userId} does not exist`);
    }
    if (groupId) {
      const [group] = await tx.db
        .select({ id: groups.id })
        .from(groups)
        .where(and(eq(groups.id, groupId), eq(groups.orgId, tx.orgId)));
      if (!group) throw new ValidationError('group_id', `group ${groupId} does not exist`);
    }
    const siteIds =
      input.siteIds === undefined || input.siteIds === null
        ? null
        : await requireSiteIds(tx, 'site_ids', input.siteIds);
    const [inserted] = await tx.db
      .insert(roleBindings)
      .values({ orgId: tx.orgId, roleId, userId, groupId, siteIds })
      .returning({ id: roleBindings.id });
    const view = await getRoleBinding(tx, (inserted as { id: string }).id);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'role_binding.create',
      targetType: 'role_binding',
      targetId: view.id,
      after: view,
    });
    return view;
  });
}

export async function getRoleBinding(ctx: ServiceContext, bindingId: string): Promise<RoleBindingView> {
  const id = requireIdOrNotFound('role binding', bindingId);
  const [binding] = await ctx.db
    .select(BINDING_VIEW)
    .from(roleBindings)
    .innerJoin(roles, eq(roles.id, roleBindings.roleId))
    .where(and(eq(roleBindings.id, id), eq(roleBindings.orgId, ctx.orgId)));
  if (!binding) throw new NotFoundError('role binding', bindingId);
  return binding;
}

export async function listRoleBindings(
  ctx: ServiceContext,
  filter: { userId?: string; groupId?: string; roleId?: string } = {},
): Promise<RoleBindingView[]> {
  const where: SQL[] = [eq(roleBindings.orgId, ctx.orgId)];
  if (filter.userId !== undefined) where.push(eq(roleBindings.userId, requireUuid('user_id', filter.userId)));
  if (filter.groupId !== undefined)
    where.push(eq(roleBindings.groupId, requireUuid('group_id', filter.groupId)));
  if (filter.roleId !== undefined) where.push(eq(roleBindings.roleId, requireUuid('role_id', filter.roleId)));
  return ctx.db
    .select(BINDING_VIEW)
    .from(roleBindings)
    .innerJoin(roles, eq(roles.id, roleBindings.roleId))
    .where(and(...where))
    .orderBy(asc(roleBindings.createdAt), asc(roleBindings.id));
}

export async function deleteRoleBinding(ctx: ServiceContext, bindingId: string): Promise<void> {
  const id = requireIdOrNotFound('role binding', bindingId);
  await inTransaction(ctx, (tx) =>
    preservingAnOwner(tx, async () => {
      const before = await getRoleBinding(tx, id);
      await tx.db.delete(roleBindings).where(eq(roleBindings.id, id));
      await record(tx.db, {
        orgId: tx.orgId,
        actor: tx.actor,
        action: 'role_binding.delete',
        targetType: 'role_binding',
        targetId: id,
        before,
      });
    }),
  );
}

/** Role ids by built-in name, for callers binding a built-in role (bootstrap, CLI). */
export async function builtinRoleIds(db: Db, orgId: string): Promise<Map<string, string>> {
  const rows = await db
    .select({ id: roles.id, name: roles.name })
    .from(roles)
    .where(
      and(
        eq(roles.orgId, orgId),
        eq(roles.builtin, true),
        inArray(
          roles.name,
          BUILTIN_ROLES.map((r) => r.name),
        ),
      ),
    );
  return new Map(rows.map((row) => [row.name, row.id]));
}
