/**
 * @module Single sign-on tables (docs/sso.md): the identity providers (OpenID Connect or SAML 2.0, each for the
 * portal or the admin console), the link of a provider's subject to a Portcullis user, and the sign-ins under
 * way (the state of one authorization request, single use, short-lived).
 *
 * The OIDC client secret is a keyring ciphertext (`identity_providers:<id>:client_secret_enc`, registered in
 * src/secrets/registry.ts); nothing else here is secret: a pending sign-in stores only the hash of the browser
 * binding its PKCE verifier is derived from.
 */
import { sql } from 'drizzle-orm';
import { boolean, index, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from './identity.ts';
import { orgRef, timestamps, tz } from './tenancy.ts';

export const identityProviders = pgTable(
  'identity_providers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    name: text('name').notNull(),
    /** `oidc` or `saml`. */
    kind: text('kind').notNull(),
    /** `portal` (sign-in grants access) or `console` (sign-in manages, never grants). */
    audience: text('audience').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** OIDC: the issuer identifier (discovery at `<issuer>/.well-known/openid-configuration`). */
    issuer: text('issuer'),
    clientId: text('client_id'),
    /** OIDC: keyring ciphertext of the client secret; null for a public client (PKCE only). */
    clientSecretEnc: text('client_secret_enc'),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    /** SAML: the IdP's single sign-on URL (HTTP-Redirect binding). */
    samlEntryPoint: text('saml_entry_point'),
    /** SAML: the IdP's single logout URL, or null. */
    samlLogoutUrl: text('saml_logout_url'),
    /** SAML: the IdP's entity id (the Issuer of its responses). */
    samlIdpEntityId: text('saml_idp_entity_id'),
    /** SAML: the IdP's signing certificates (PEM or bare base64), public. */
    samlIdpCerts: text('saml_idp_certs').array().notNull().default(sql`'{}'::text[]`),
    /** Claim (OIDC) or attribute (SAML) carrying the group names. */
    groupClaim: text('group_claim').notNull().default('groups'),
    /** Claim value → Portcullis group id. */
    groupMap: jsonb('group_map').$type<Record<string, string>>().notNull().default({}),
    /** Claim or attribute carrying the grant lifetime in seconds, or null (the knoc's default). */
    lifetimeClaim: text('lifetime_claim'),
    /** Claim or attribute carrying the username (OIDC default `preferred_username`, SAML default the NameID). */
    usernameClaim: text('username_claim'),
    /** Create a user on first sign-in (otherwise only an existing user of the same username may sign in). */
    provision: boolean('provision').notNull().default(true),
    ...timestamps,
  },
  (t) => [uniqueIndex('identity_providers_org_name_uq').on(t.orgId, t.name)],
);

/** The subject (`sub`, SAML NameID) a provider knows a Portcullis user by. */
export const externalIdentities = pgTable(
  'external_identities',
  {
    orgId: orgRef(),
    providerId: uuid('provider_id')
      .notNull()
      .references(() => identityProviders.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastSignInAt: tz('last_sign_in_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.subject] }), index('external_identities_user_idx').on(t.userId)],
);

/** An authorization request under way: consumed by its callback, refused after `expires_at`. */
export const ssoRequests = pgTable(
  'sso_requests',
  {
    /** OIDC: SHA-256 (hex) of `state`; SAML: the AuthnRequest ID. */
    key: text('key').primaryKey(),
    orgId: orgRef(),
    providerId: uuid('provider_id')
      .notNull()
      .references(() => identityProviders.id, { onDelete: 'cascade' }),
    /** OIDC: SHA-256 (hex) of the browser binding cookie the PKCE verifier is derived from. */
    bindingHash: text('binding_hash'),
    nonce: text('nonce'),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
  },
  (t) => [index('sso_requests_expires_idx').on(t.expiresAt)],
);
