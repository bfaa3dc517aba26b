/**
 * @module `/api/v1/groups` and their members. Groups are org-wide: every route needs `users.manage` on all
 * sites. Role bindings may name a group; its members then hold the role.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { createGroup, deleteGroup, getGroup, listGroups, updateGroup } from '../../identity/groups.ts';
import { addGroupMember, listGroupMembers, removeGroupMember } from '../../identity/users.ts';
import { ctxOf } from '../context.ts';
import {
  Description,
  ERROR_RESPONSES,
  IdParams,
  listOf,
  Name,
  Paging,
  PathId,
  ref,
  Uuid,
} from '../schemas.ts';
import { listBody, toApi } from '../views.ts';

const access = { permission: 'users.manage', scope: 'org' } as const;
const tags = ['groups'];

export const groupRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/groups',
    {
      config: access,
      schema: {
        tags,
        summary: 'List groups',
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: { 200: listOf('Group'), ...ERROR_RESPONSES },
      },
    },
    async (request) => listBody(await listGroups(ctxOf(request), request.query)),
  );

  app.post(
    '/api/v1/groups',
    {
      config: access,
      schema: {
        tags,
        summary: 'Create a group',
        body: Type.Object(
          { name: Name, description: Type.Optional(Description) },
          { additionalProperties: false },
        ),
        response: { 201: ref('Group'), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => reply.code(201).send(toApi(await createGroup(ctxOf(request), request.body))),
  );

  app.get(
    '/api/v1/groups/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Get a group',
        params: IdParams,
        response: { 200: ref('Group'), ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await getGroup(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/api/v1/groups/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Rename or describe a group',
        params: IdParams,
        body: Type.Object(
          { name: Type.Optional(Name), description: Type.Optional(Description) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ref('Group'), ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await updateGroup(ctxOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/groups/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Delete a group',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteGroup(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/groups/:id/members',
    {
      config: access,
      schema: {
        tags,
        summary: "List a group's members",
        params: IdParams,
        response: { 200: listOf('User'), ...ERROR_RESPONSES },
      },
    },
    async (request) => listBody(await listGroupMembers(ctxOf(request), request.params.id)),
  );

  app.post(
    '/api/v1/groups/:id/members',
    {
      config: access,
      schema: {
        tags,
        summary: 'Add a user to a group',
        params: IdParams,
        body: Type.Object({ user_id: Uuid }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await addGroupMember(ctxOf(request), request.params.id, request.body.user_id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/groups/:id/members/:userId',
    {
      config: access,
      schema: {
        tags,
        summary: 'Remove a user from a group',
        params: Type.Object({ id: PathId, userId: PathId }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await removeGroupMember(ctxOf(request), request.params.id, request.params.userId);
      return reply.code(204).send(null);
    },
  );
};
