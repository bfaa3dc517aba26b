/**
 * @module `/api/v1/firewall/gateways`: firewall connections. Reading needs `gateway.view`; creating, changing,
 * deleting and testing need `gateway.manage_topology` on the gateway's site (ADR 0090). The API key is
 * write-only: responses say `has_credentials: true`, never the key. URLs pass the SSRF guard unless
 * `PORTCULLIS_ALLOW_GATEWAY_HOSTS` lists the host.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { testGateway } from '../../firewall/adapter.ts';
import {
  connectionFromInput,
  connectionWithOverride,
  createGateway,
  deleteGateway,
  type GatewayPolicy,
  getGateway,
  listGateways,
  updateGateway,
} from '../../firewall/gateways.ts';
import { isUuid } from '../../identity/validate.ts';
import { ctxOf } from '../context.ts';
import { requireSite, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Name, Paging, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';

const tags = ['gateways'];
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** Dates leave as ISO strings (the serializer formats `Date`s). */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });

export const GatewaySchema = Type.Object({
  id: Uuid,
  site_id: Uuid,
  name: Type.String(),
  vendor: Type.String(),
  url: Type.String(),
  verify_ssl: Type.Boolean(),
  ca_pem: Nullable(Type.String()),
  fingerprint_sha256: Nullable(Type.String()),
  has_credentials: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/** Lets a POST with an optional body arrive without one: no body validates as `{}`. */
export const emptyBodyIsObject = {
  preValidation: async (request: FastifyRequest) => {
    request.body ??= {};
  },
};

const Connection = {
  vendor: Type.Optional(Type.Literal('pfsense')),
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  api_key: Type.String({ minLength: 1, maxLength: 1024 }),
  verify_ssl: Type.Optional(Type.Boolean()),
  ca_pem: Type.Optional(Nullable(Type.String({ maxLength: 65_536 }))),
  fingerprint_sha256: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
};

const TestResult = Type.Object({
  ok: Type.Boolean(),
  version: Nullable(Type.String()),
  api_version: Nullable(Type.String()),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  /** After a TLS failure (PFS003): the certificate the gateway presented, to pin when the person trusts it. */
  certificate: Nullable(
    Type.Object({
      fingerprint_sha256: Type.String(),
      subject: Type.String(),
      issuer: Type.String(),
      valid_from: Type.String(),
      valid_to: Type.String(),
      self_signed: Type.Boolean(),
    }),
  ),
});

const policyOf = (request: FastifyRequest): GatewayPolicy => ({
  allowHosts: request.server.access.settings.allowHosts,
});
const adapterSettings = (request: FastifyRequest) => {
  const { allowHosts, adapter } = request.server.access.settings;
  return { allowHosts, ...(adapter ? { tuning: adapter } : {}) };
};

export const gatewayRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/v1/firewall/gateways',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'List the gateways of the sites you can see',
        querystring: Type.Object(
          { site_id: Type.Optional(Uuid), ...Paging },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(GatewaySchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { site_id, ...page } = request.query;
      const items = await listGateways(ctxOf(request), {
        ...page,
        ...(site_id ? { siteId: site_id } : {}),
        scope: siteFilter(request, 'gateway.view'),
      });
      return { items: items.map(toApi) };
    },
  );

  app.post(
    '/api/v1/firewall/gateways',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Add a gateway (the API key is stored encrypted and never returned)',
        body: Type.Object({ name: Name, site_id: Uuid, ...Connection }, { additionalProperties: false }),
        response: { 201: GatewaySchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      if (isUuid(request.body.site_id))
        requireSite(request, 'gateway.manage_topology', request.body.site_id, 'write');
      const gateway = await createGateway(ctxOf(request), request.body, policyOf(request));
      return reply.code(201).send(toApi(gateway));
    },
  );

  app.post(
    '/api/v1/firewall/gateways/test',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Test an unsaved connection: reads the device version',
        body: Type.Object(Connection, { additionalProperties: false }),
        response: { 200: TestResult, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      testGateway(await connectionFromInput(request.body, policyOf(request)), adapterSettings(request)),
  );

  app.get(
    '/api/v1/firewall/gateways/:id',
    {
      config: { permission: 'gateway.view' },
      schema: {
        tags,
        summary: 'Get a gateway',
        params: IdParams,
        response: { 200: GatewaySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const gateway = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'gateway.view', gateway.siteId, 'read');
      return toApi(gateway);
    },
  );

  app.patch(
    '/api/v1/firewall/gateways/:id',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Change a gateway (a new api_key replaces the stored one)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            vendor: Connection.vendor,
            url: Type.Optional(Connection.url),
            api_key: Type.Optional(Connection.api_key),
            verify_ssl: Connection.verify_ssl,
            ca_pem: Connection.ca_pem,
            fingerprint_sha256: Connection.fingerprint_sha256,
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: GatewaySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const before = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'gateway.manage_topology', before.siteId, 'write');
      const gateway = await updateGateway(ctxOf(request), request.params.id, request.body, policyOf(request));
      await app.access.gatewayChanged(gateway.id);
      return toApi(gateway);
    },
  );

  app.delete(
    '/api/v1/firewall/gateways/:id',
    {
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Delete a gateway (soft; refused while a knoc uses it)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const before = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'gateway.manage_topology', before.siteId, 'write');
      await deleteGateway(ctxOf(request), request.params.id);
      await app.access.gatewayChanged(before.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/firewall/gateways/:id/test',
    {
      ...emptyBodyIsObject,
      config: { permission: 'gateway.manage_topology' },
      schema: {
        tags,
        summary: 'Test a saved gateway, optionally with some fields overridden (nothing is saved)',
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            {
              vendor: Connection.vendor,
              url: Type.Optional(Connection.url),
              api_key: Type.Optional(Connection.api_key),
              verify_ssl: Connection.verify_ssl,
              ca_pem: Connection.ca_pem,
              fingerprint_sha256: Connection.fingerprint_sha256,
            },
            { additionalProperties: false },
          ),
        ),
        response: { 200: TestResult, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const before = await getGateway(ctxOf(request), request.params.id);
      requireSite(request, 'gateway.manage_topology', before.siteId, 'write');
      const conn = await connectionWithOverride(
        ctxOf(request),
        request.params.id,
        request.body ?? {},
        policyOf(request),
      );
      return testGateway(conn, adapterSettings(request));
    },
  );
};
