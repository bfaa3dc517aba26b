/**
 * @module `/api/v1/identity-providers`: the OpenID Connect and SAML providers people sign in with (docs/sso.md).
 * Org-wide, `users.manage` on every site (a provider decides who becomes a user and which groups they hold).
 * The OIDC client secret is write-only: answers say only whether one is set.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import {
  createProvider,
  deleteProvider,
  getProvider,
  listProviders,
  type ProviderView,
  updateProvider,
} from '../../identity/sso/providers.ts';
import { ctxOf } from '../context.ts';
import { ERROR_RESPONSES, IdParams, Line, Name, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';

const access = { permission: 'users.manage', scope: 'org' } as const;
const tags = ['identity-providers'];

const Url = Type.String({ minLength: 1, maxLength: 2048 });
const Claim = Line({ minLength: 1, maxLength: 200 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const IdentityProvider = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Type.Union([Type.Literal('oidc'), Type.Literal('saml')]),
  audience: Type.Union([Type.Literal('portal'), Type.Literal('console')]),
  enabled: Type.Boolean(),
  issuer: Nullable(Type.String()),
  client_id: Nullable(Type.String()),
  has_client_secret: Type.Boolean(),
  scopes: Type.Array(Type.String()),
  saml_entry_point: Nullable(Type.String()),
  saml_logout_url: Nullable(Type.String()),
  saml_idp_entity_id: Nullable(Type.String()),
  saml_idp_certs: Type.Array(Type.String()),
  group_claim: Type.String(),
  group_map: Type.Record(Type.String(), Type.String()),
  lifetime_claim: Nullable(Type.String()),
  username_claim: Nullable(Type.String()),
  provision: Type.Boolean(),
  /** Our URLs to register at the provider. */
  endpoints: Type.Record(Type.String(), Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const fields = {
  name: Name,
  audience: Type.Union([Type.Literal('portal'), Type.Literal('console')]),
  enabled: Type.Boolean(),
  issuer: Nullable(Url),
  client_id: Nullable(Line({ minLength: 1, maxLength: 500 })),
  client_secret: Nullable(Type.String({ minLength: 1, maxLength: 2000 })),
  scopes: Type.Array(Line({ minLength: 1, maxLength: 200 }), { maxItems: 50 }),
  saml_entry_point: Nullable(Url),
  saml_logout_url: Nullable(Url),
  saml_idp_entity_id: Nullable(Line({ minLength: 1, maxLength: 1000 })),
  saml_idp_certs: Type.Array(Type.String({ minLength: 1, maxLength: 20_000 }), { maxItems: 10 }),
  group_claim: Claim,
  group_map: Type.Record(Type.String({ maxLength: 500 }), Type.String({ maxLength: 100 }), { maxProperties: 500 }),
  lifetime_claim: Nullable(Claim),
  username_claim: Nullable(Claim),
  provision: Type.Boolean(),
};
const optional = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as {
  [K in keyof typeof fields]: ReturnType<typeof Type.Optional<(typeof fields)[K]>>;
};

const CreateBody = Type.Object(
  { ...optional, name: Name, kind: Type.Union([Type.Literal('oidc'), Type.Literal('saml')]), audience: fields.audience },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(optional, { additionalProperties: false, minProperties: 1 });

export const identityProviderRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const body = (view: ProviderView, origin: string) => {
    const base = `${origin}/api/v1/auth/${view.kind}/${view.id}`;
    const endpoints: Record<string, string> =
      view.kind === 'oidc'
        ? { redirect_uri: `${base}/callback`, backchannel_logout_uri: `${base}/backchannel-logout` }
        : { entity_id: `${base}/metadata`, acs_url: `${base}/acs`, slo_url: `${base}/slo`, metadata_url: `${base}/metadata` };
    return {
      ...toApi(view),
      endpoints,
      created_at: view.createdAt.toISOString(),
      updated_at: view.updatedAt.toISOString(),
    };
  };
  const origin = (request: { protocol: string; host: string }) =>
    app.config.publicUrl ?? `${request.protocol}://${request.host}`;

  app.get(
    '/api/v1/identity-providers',
    {
      config: access,
      schema: {
        tags,
        summary: 'List identity providers (never their client secrets)',
        response: { 200: Type.Object({ items: Type.Array(IdentityProvider) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => ({ items: (await listProviders(ctxOf(request))).map((v) => body(v, origin(request))) }),
  );

  app.post(
    '/api/v1/identity-providers',
    {
      config: access,
      schema: {
        tags,
        summary: 'Add an OpenID Connect or SAML identity provider for the portal or the console',
        body: CreateBody,
        response: { 201: IdentityProvider, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.code(201).send(body(await createProvider(ctxOf(request), request.body), origin(request))),
  );

  app.get(
    '/api/v1/identity-providers/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Get an identity provider',
        params: IdParams,
        response: { 200: IdentityProvider, ...ERROR_RESPONSES },
      },
    },
    async (request) => body(await getProvider(ctxOf(request), request.params.id), origin(request)),
  );

  app.patch(
    '/api/v1/identity-providers/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Change an identity provider (client_secret: a string sets it, null removes it)',
        params: IdParams,
        body: UpdateBody,
        response: { 200: IdentityProvider, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      body(await updateProvider(ctxOf(request), request.params.id, request.body), origin(request)),
  );

  app.delete(
    '/api/v1/identity-providers/:id',
    {
      config: access,
      schema: {
        tags,
        summary: 'Delete an identity provider (its users stay; their links to it go)',
        params: IdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteProvider(ctxOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
