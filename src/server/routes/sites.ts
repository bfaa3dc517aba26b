/**
 * @module `/api/v1/sites`. Sites are the unit of scoping: a user whose role binding is limited to some
 * sites lists only those, gets 404 for another site and 403 when changing one (ADR 0012). Reading needs
 * `gateway.view`, changing `gateway.manage_topology`; creating a site needs it for the whole org.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { createSite, deleteSite, getSite, listSites, updateSite } from '../../identity/sites.ts';
import { ctxOf } from '../context.ts';
import { requireSite, siteFilter } from '../plugins/access.ts';
import { Description, ERROR_RESPONSES, IdParams, listOf, Name, Paging, ref } from '../schemas.ts';
import { listBody, toApi } from '../views.ts';

const tags = ['sites'];

export const siteRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/sites',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'List the sites you can see',
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: { 200: listOf('Site'), ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      listBody(
        await listSites(ctxOf(request), { ...request.query, scope: siteFilter(request, 'gateway.view') }),
      ),
  );

  app.post(
    '/api/v1/sites',
    {
      config: { permission: 'gateway.manage_topology', scope: 'org' },
      schema: {
        tags,
        summary: 'Create a site',
        body: Type.Object(
          { name: Name, description: Type.Optional(Description) },
          { additionalProperties: false },
        ),
        response: { 201: ref('Site'), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => reply.code(201).send(toApi(await createSite(ctxOf(request), request.body))),
  );

  app.get(
    '/api/v1/sites/:id',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'Get a site',
        params: IdParams,
        response: { 200: ref('Site'), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSite(request, 'gateway.view', request.params.id, 'read');
      return toApi(await getSite(ctxOf(request), request.params.id));
    },
  );

  app.patch(
    '/api/v1/sites/:id',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Rename or describe a site',
        params: IdParams,
        body: Type.Object(
          { name: Type.Optional(Name), description: Type.Optional(Description) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ref('Site'), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      requireSite(request, 'gateway.manage_topology', request.params.id, 'write');
      return toApi(await updateSite(ctxOf(request), request.params.id, request.body));
    },
  );

  app.delete(
    '/api/v1/sites/:id',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Delete a site',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      requireSite(request, 'gateway.manage_topology', request.params.id, 'write');
      await deleteSite(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
