/**
 * @module `/api/v1/users`: create, list, read, update, soft-delete, set password, reset TOTP. Users are org-wide
 * objects, so every route needs `users.manage` on all sites. Each change is audited by the service inside
 * the transaction that makes it.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { resetTotp } from '../../identity/mfa.ts';
import { endGrantsOfInactiveUser } from '../../access/service/grants.ts';
import { createUser, deleteUser, getUser, listUsers, setPassword, updateUser } from '../../identity/users.ts';
import { ctxOf } from '../context.ts';
import { ERROR_RESPONSES, IdParams, Line, listOf, Paging, Password, ref, Username } from '../schemas.ts';
import { listBody, toApi } from '../views.ts';

const Email = Type.String({ maxLength: 254, format: 'email' });
const DisplayName = Line({ maxLength: 200 });
const access = { permission: 'users.manage', scope: 'org' } as const;
const tags = ['users'];

export const userRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/users',
    {
      config: access,
      schema: {
        tags,
        summary: 'List users',
        querystring: Type.Object(
          { search: Type.Optional(Line({ maxLength: 100 })), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: listOf('User'), ...ERROR_RESPONSES },
      },
    },
    async (request) => listBody(await listUsers(ctxOf(request), request.query)),
  );

  app.post(
    '/api/v1/users',
    {
      config: access,
      schema: {
        tags,
        summary: 'Create a user',
        body: Type.Object(
          {
            username: Username,
            password: Password,
            display_name: Type.Optional(DisplayName),
            email: Type.Optional(Type.Union([Email, Type.Null()])),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: ref('User'), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { username, password, display_name, email, disabled } = request.body;
      const user = await createUser(ctxOf(request), {
        username,
        password,
        ...(display_name !== undefined ? { displayName: display_name } : {}),
        ...(email !== undefined ? { email } : {}),
        ...(disabled !== undefined ? { disabled } : {}),
      });
      return reply.code(201).send(toApi(user));
    },
  );

  app.get(
    '/api/v1/users/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Get a user',
        params: IdParams,
        response: { 200: ref('User'), ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await getUser(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Change a user (disabling ends their sessions)',
        params: IdParams,
        body: Type.Object(
          {
            display_name: Type.Optional(DisplayName),
            email: Type.Optional(Type.Union([Email, Type.Null()])),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ref('User'), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { display_name, email, disabled } = request.body;
      const user = await updateUser(ctxOf(request), request.params.id, {
        ...(display_name !== undefined ? { displayName: display_name } : {}),
        ...(email !== undefined ? { email } : {}),
        ...(disabled !== undefined ? { disabled } : {}),
      });
      if (user.disabled) await endGrantsOfInactiveUser(ctxOf(request), user.id, request.server.access);
      return toApi(user);
    },
  );

  app.put(
    '/api/v1/users/:id/password',
    {
      config: access,
      schema: {
        tags,
        summary: "Set a user's password (ends their sessions)",
        params: IdParams,
        body: Type.Object({ password: Password }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await setPassword(ctxOf(request), request.params.id, request.body.password);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/users/:id/totp',
    {
      config: access,
      schema: {
        tags,
        summary: "Reset a user's TOTP (lost authenticator): password alone until they enrol again",
        params: IdParams,
        response: { 200: ref('User'), ...ERROR_RESPONSES },
      },
    },
    async (request) => toApi(await resetTotp(ctxOf(request), request.params.id)),
  );

  app.delete(
    '/api/v1/users/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Delete a user (soft delete; ends sessions, revokes tokens)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteUser(ctxOf(request), request.params.id);
      await endGrantsOfInactiveUser(ctxOf(request), request.params.id, request.server.access);
      return reply.code(204).send(null);
    },
  );
};
