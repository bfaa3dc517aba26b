/**
 * @module `/api/v1/roles` (built-in roles are read-only; custom roles take codes from the catalog),
 * `/api/v1/role-bindings` (a user or a group holds a role, on all sites or only on listed ones) and the
 * permission catalog `/api/v1/permissions`. Managing roles and bindings needs `users.manage` org-wide.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { PERMISSIONS } from '../../identity/permissions.ts';
import {
  createRole,
  createRoleBinding,
  deleteRole,
  deleteRoleBinding,
  getRole,
  getRoleBinding,
  listRoleBindings,
  listRoles,
  updateRole,
} from '../../identity/roles.ts';
import { ctxOf } from '../context.ts';
import { Description, ERROR_RESPONSES, IdParams, listOf, PermissionCode, ref, Uuid } from '../schemas.ts';
import { listBody, toApi } from '../views.ts';

const access = { permission: 'users.manage', scope: 'org' } as const;
const RoleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_.-]*$' });
const Permissions = Type.Array(PermissionCode, { maxItems: 200 });

const CATALOG = {
  items: Object.entries(PERMISSIONS).map(([code, description]) => ({ code, description })),
};

export const roleRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['roles'];

  app.get(
    '/api/v1/permissions',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags,
        summary: 'The permission catalog',
        response: { 200: listOf('Permission'), ...ERROR_RESPONSES },
      },
    },
    async () => CATALOG,
  );

  app.get(
    '/api/v1/roles',
    {
      config: access,
      schema: { tags, summary: 'List roles', response: { 200: listOf('Role'), ...ERROR_RESPONSES } },
    },
    async (request) => listBody(await listRoles(ctxOf(request))),
  );

  app.post(
    '/api/v1/roles',
    {
      config: access,
      schema: {
        tags,
        summary: 'Create a custom role',
        body: Type.Object(
          { name: RoleName, description: Type.Optional(Description), permissions: Permissions },
          { additionalProperties: false },
        ),
        response: { 201: ref('Role'), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => reply.code(201).send(toApi(await createRole(ctxOf(request), request.body))),
  );

  app.get(
    '/api/v1/roles/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Get a role',
        params: IdParams,
        response: { 200: ref('Role'), ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await getRole(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/api/v1/roles/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Change a custom role (409 for built-in roles)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(RoleName),
            description: Type.Optional(Description),
            permissions: Type.Optional(Permissions),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ref('Role'), ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await updateRole(ctxOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/roles/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Delete a custom role and its bindings (409 for built-in roles)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteRole(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  const bindingTags = ['role-bindings'];

  app.get(
    '/api/v1/role-bindings',
    {
      config: access,
      schema: {
        tags: bindingTags,
        summary: 'List role bindings, optionally of one user, group or role',
        querystring: Type.Object(
          { user_id: Type.Optional(Uuid), group_id: Type.Optional(Uuid), role_id: Type.Optional(Uuid) },
          { additionalProperties: false },
        ),
        response: { 200: listOf('RoleBinding'), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { user_id, group_id, role_id } = request.query;
      return listBody(
        await listRoleBindings(ctxOf(request), {
          ...(user_id ? { userId: user_id } : {}),
          ...(group_id ? { groupId: group_id } : {}),
          ...(role_id ? { roleId: role_id } : {}),
        }),
      );
    },
  );

  app.post(
    '/api/v1/role-bindings',
    {
      config: access,
      schema: {
        tags: bindingTags,
        summary: 'Give a user or a group a role, on all sites or only on site_ids',
        body: Type.Object(
          {
            role_id: Uuid,
            user_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
            group_id: Type.Optional(Type.Union([Uuid, Type.Null()])),
            site_ids: Type.Optional(
              Type.Union([Type.Array(Uuid, { minItems: 1, maxItems: 1000 }), Type.Null()]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: ref('RoleBinding'), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { role_id, user_id, group_id, site_ids } = request.body;
      const binding = await createRoleBinding(ctxOf(request), {
        roleId: role_id,
        userId: user_id ?? null,
        groupId: group_id ?? null,
        siteIds: site_ids ?? null,
      });
      return reply.code(201).send(toApi(binding));
    },
  );

  app.get(
    '/api/v1/role-bindings/:id',
    {
      config: access,
      schema: {
        tags: bindingTags,
        summary: 'Get a role binding',
        params: IdParams,
        response: { 200: ref('RoleBinding'), ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await getRoleBinding(ctxOf(request), request.params.id)),
  );

  app.delete(
    '/api/v1/role-bindings/:id',
    {
      config: access,
      schema: {
        tags: bindingTags,
        summary: 'Remove a role binding',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteRoleBinding(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
