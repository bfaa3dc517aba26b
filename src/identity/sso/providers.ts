/**
 * @module Identity providers (docs/sso.md): OpenID Connect or SAML 2.0, each for the portal (sign-in grants
 * access) or the admin console (sign-in manages, never grants), so one provider's users can hold grants and
 * another's run the system. Managed with `users.manage`; every change is audited without its secret. The OIDC
 * client secret is sealed with the keyring (`identity_providers:<id>:client_secret_enc`) and never returned.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import {
  requireBoolean,
  requireIdOrNotFound,
  requireName,
  requireString,
  uniquely,
} from '../../core/validate.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { aadForColumn, ENCRYPTED_COLUMNS } from '../../secrets/registry.ts';
import { groups } from '../../store/schema/identity.ts';
import { identityProviders } from '../../store/schema/sso.ts';

export type ProviderKind = 'oidc' | 'saml';
export type ProviderAudience = 'portal' | 'console';

export interface ProviderView {
  id: string;
  name: string;
  kind: ProviderKind;
  audience: ProviderAudience;
  enabled: boolean;
  issuer: string | null;
  clientId: string | null;
  hasClientSecret: boolean;
  scopes: string[];
  samlEntryPoint: string | null;
  samlLogoutUrl: string | null;
  samlIdpEntityId: string | null;
  samlIdpCerts: string[];
  groupClaim: string;
  groupMap: Record<string, string>;
  lifetimeClaim: string | null;
  usernameClaim: string | null;
  provision: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A provider with its client secret opened, for the sign-in flows only (never a response). */
export interface ProviderConfig extends ProviderView {
  clientSecret: string | null;
}

export interface ProviderInput {
  name?: unknown;
  kind?: unknown;
  audience?: unknown;
  enabled?: unknown;
  issuer?: unknown;
  client_id?: unknown;
  /** A string sets it, null removes it (public client), absent keeps it. */
  client_secret?: unknown;
  scopes?: unknown;
  saml_entry_point?: unknown;
  saml_logout_url?: unknown;
  saml_idp_entity_id?: unknown;
  saml_idp_certs?: unknown;
  group_claim?: unknown;
  group_map?: unknown;
  lifetime_claim?: unknown;
  username_claim?: unknown;
  provision?: unknown;
}

const registered = ENCRYPTED_COLUMNS.find((entry) => entry.column === identityProviders.clientSecretEnc);
if (registered === undefined) throw new Error('identity_providers.client_secret_enc is not in the encrypted-column registry');
const SECRET_COLUMN = registered;

type Row = typeof identityProviders.$inferSelect;

function viewOf(row: Row): ProviderView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ProviderKind,
    audience: row.audience as ProviderAudience,
    enabled: row.enabled,
    issuer: row.issuer,
    clientId: row.clientId,
    hasClientSecret: row.clientSecretEnc !== null,
    scopes: row.scopes,
    samlEntryPoint: row.samlEntryPoint,
    samlLogoutUrl: row.samlLogoutUrl,
    samlIdpEntityId: row.samlIdpEntityId,
    samlIdpCerts: row.samlIdpCerts,
    groupClaim: row.groupClaim,
    groupMap: row.groupMap,
    lifetimeClaim: row.lifetimeClaim,
    usernameClaim: row.usernameClaim,
    provision: row.provision,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An https URL, or http on a loopback host only (a provider on the same machine, as in tests); `null` passes
 * through when `nullable`.
 */
export function providerUrl(field: string, value: unknown): string {
  const text = requireString(field, value, { max: 2048 }).trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(field, `${field} must be an absolute URL`);
  }
  if (url.protocol === 'https:') return text;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return text;
  throw new ValidationError(field, `${field} must be an https URL (http only on a loopback host)`);
}

function nullableUrl(field: string, value: unknown): string | null {
  return value === null ? null : providerUrl(field, value);
}

function claimName(field: string, value: unknown): string {
  return requireString(field, value, { max: 200, pattern: /^\S+$/, hint: 'must be a claim name without spaces' });
}

function nullableClaim(field: string, value: unknown): string | null {
  return value === null ? null : claimName(field, value);
}

function scopesOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 50) throw new ValidationError('scopes', 'scopes must be a list of at most 50 scopes');
  const scopes = value.map((scope, i) => requireString(`scopes.${i}`, scope, { max: 200, pattern: /^[\x21\x23-\x5B\x5D-\x7E]+$/, hint: 'is not a scope token' }));
  return [...new Set(scopes)];
}

/** PEM or bare base64 of a certificate; stored as given without the PEM armour and whitespace. */
function certificatesOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 10) {
    throw new ValidationError('saml_idp_certs', 'saml_idp_certs must be a list of at most 10 certificates');
  }
  return value.map((cert, i) => {
    const field = `saml_idp_certs.${i}`;
    const body = requireString(field, cert, { max: 20_000 })
      .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
      .replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+=*$/.test(body) || body.length < 100) {
      throw new ValidationError(field, `${field} must be an X.509 certificate (PEM or base64)`);
    }
    return body;
  });
}

async function groupMapOf(ctx: ServiceContext, value: unknown): Promise<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('group_map', 'group_map must be an object of claim value → group id');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 500) throw new ValidationError('group_map', 'group_map may have at most 500 entries');
  const map: Record<string, string> = {};
  for (const [claimValue, groupId] of entries) {
    const field = `group_map.${claimValue}`;
    requireString(field, claimValue, { max: 500 });
    const id = requireString(field, groupId, { pattern: /^[0-9a-f-]{36}$/i, hint: 'must be a group id (UUID)' }).toLowerCase();
    map[claimValue] = id;
  }
  const ids = [...new Set(Object.values(map))];
  if (ids.length > 0) {
    const found = await ctx.db
      .select({ id: groups.id })
      .from(groups)
      .where(and(eq(groups.orgId, ctx.orgId), inArray(groups.id, ids)));
    const known = new Set(found.map((g) => g.id));
    const missing = Object.entries(map).find(([, id]) => !known.has(id));
    if (missing) throw new ValidationError(`group_map.${missing[0]}`, `group ${missing[1]} does not exist`);
  }
  return map;
}

function kindOf(value: unknown): ProviderKind {
  if (value !== 'oidc' && value !== 'saml') throw new ValidationError('kind', 'kind must be "oidc" or "saml"');
  return value;
}

function audienceOf(value: unknown): ProviderAudience {
  if (value !== 'portal' && value !== 'console') {
    throw new ValidationError('audience', 'audience must be "portal" or "console"');
  }
  return value;
}

type Changes = Partial<Omit<typeof identityProviders.$inferInsert, 'id' | 'orgId' | 'clientSecretEnc'>>;

/** The columns `input` sets (absent fields are left out); the client secret is handled by the caller. */
async function changesOf(ctx: ServiceContext, input: ProviderInput): Promise<Changes> {
  const changes: Changes = {};
  if (input.name !== undefined) changes.name = requireName('name', input.name);
  if (input.audience !== undefined) changes.audience = audienceOf(input.audience);
  if (input.enabled !== undefined) changes.enabled = requireBoolean('enabled', input.enabled);
  if (input.issuer !== undefined) changes.issuer = nullableUrl('issuer', input.issuer);
  if (input.client_id !== undefined) {
    changes.clientId = input.client_id === null ? null : requireString('client_id', input.client_id, { max: 500 });
  }
  if (input.scopes !== undefined) changes.scopes = scopesOf(input.scopes);
  if (input.saml_entry_point !== undefined) changes.samlEntryPoint = nullableUrl('saml_entry_point', input.saml_entry_point);
  if (input.saml_logout_url !== undefined) changes.samlLogoutUrl = nullableUrl('saml_logout_url', input.saml_logout_url);
  if (input.saml_idp_entity_id !== undefined) {
    changes.samlIdpEntityId =
      input.saml_idp_entity_id === null ? null : requireString('saml_idp_entity_id', input.saml_idp_entity_id, { max: 1000 });
  }
  if (input.saml_idp_certs !== undefined) changes.samlIdpCerts = certificatesOf(input.saml_idp_certs);
  if (input.group_claim !== undefined) changes.groupClaim = claimName('group_claim', input.group_claim);
  if (input.group_map !== undefined) changes.groupMap = await groupMapOf(ctx, input.group_map);
  if (input.lifetime_claim !== undefined) changes.lifetimeClaim = nullableClaim('lifetime_claim', input.lifetime_claim);
  if (input.username_claim !== undefined) changes.usernameClaim = nullableClaim('username_claim', input.username_claim);
  if (input.provision !== undefined) changes.provision = requireBoolean('provision', input.provision);
  return changes;
}

/** What a provider of its kind cannot work without, checked on the merged result of a create or update. */
function requireComplete(row: Pick<Row, 'kind' | 'issuer' | 'clientId' | 'samlEntryPoint' | 'samlIdpCerts'>): void {
  if (row.kind === 'oidc') {
    if (!row.issuer) throw new ValidationError('issuer', 'an OpenID Connect provider needs its issuer');
    if (!row.clientId) throw new ValidationError('client_id', 'an OpenID Connect provider needs a client_id');
  } else {
    if (!row.samlEntryPoint) throw new ValidationError('saml_entry_point', 'a SAML provider needs its sign-on URL');
    if (row.samlIdpCerts.length === 0) {
      throw new ValidationError('saml_idp_certs', 'a SAML provider needs the certificate its responses are signed with');
    }
  }
}

function secretOf(value: unknown): string | null {
  return value === null ? null : requireString('client_secret', value, { max: 2000 });
}

export async function createProvider(ctx: ServiceContext, input: ProviderInput): Promise<ProviderView> {
  const kind = kindOf(input.kind);
  const changes = await changesOf(ctx, input);
  if (changes.name === undefined) throw new ValidationError('name', 'name is required');
  if (changes.audience === undefined) throw new ValidationError('audience', 'audience is required');
  const id = randomUUID();
  const secret = input.client_secret === undefined ? null : secretOf(input.client_secret);
  const values = {
    scopes: kind === 'oidc' ? ['openid', 'profile', 'email'] : [],
    ...changes,
    id,
    orgId: ctx.orgId,
    name: changes.name,
    kind,
    audience: changes.audience,
    clientSecretEnc: secret === null ? null : ctx.keyring.seal(secret, aadForColumn(SECRET_COLUMN, id)),
  };
  requireComplete({
    kind,
    issuer: values.issuer ?? null,
    clientId: values.clientId ?? null,
    samlEntryPoint: values.samlEntryPoint ?? null,
    samlIdpCerts: values.samlIdpCerts ?? [],
  });
  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `an identity provider named ${JSON.stringify(values.name)} already exists`, () =>
      tx.db.insert(identityProviders).values(values).returning(),
    );
    const view = viewOf(row as Row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'identity_provider.create',
      targetType: 'identity_provider',
      targetId: id,
      after: view,
    });
    return view;
  });
}

async function rowOf(ctx: ServiceContext, id: string): Promise<Row> {
  requireIdOrNotFound('identity provider', id);
  const [row] = await ctx.db
    .select()
    .from(identityProviders)
    .where(and(eq(identityProviders.orgId, ctx.orgId), eq(identityProviders.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError('identity provider', id);
  return row;
}

export async function getProvider(ctx: ServiceContext, id: string): Promise<ProviderView> {
  return viewOf(await rowOf(ctx, id));
}

/** The provider with its secret opened, for a sign-in; 404 when unknown, disabled, or of another kind. */
export async function providerForSignIn(ctx: ServiceContext, id: string, kind: ProviderKind): Promise<ProviderConfig> {
  const row = await rowOf(ctx, id);
  if (!row.enabled || row.kind !== kind) throw new NotFoundError('identity provider', id);
  return {
    ...viewOf(row),
    clientSecret: row.clientSecretEnc === null ? null : ctx.keyring.open(row.clientSecretEnc, aadForColumn(SECRET_COLUMN, row.id)),
  };
}

export async function listProviders(ctx: ServiceContext): Promise<ProviderView[]> {
  const rows = await ctx.db
    .select()
    .from(identityProviders)
    .where(eq(identityProviders.orgId, ctx.orgId))
    .orderBy(asc(identityProviders.name));
  return rows.map(viewOf);
}

/** What the sign-in page may show of the enabled providers: id, name, kind and audience. */
export async function listSignInProviders(
  ctx: ServiceContext,
): Promise<Pick<ProviderView, 'id' | 'name' | 'kind' | 'audience'>[]> {
  return ctx.db
    .select({
      id: identityProviders.id,
      name: identityProviders.name,
      kind: identityProviders.kind,
      audience: identityProviders.audience,
    })
    .from(identityProviders)
    .where(and(eq(identityProviders.orgId, ctx.orgId), eq(identityProviders.enabled, true)))
    .orderBy(asc(identityProviders.name)) as Promise<Pick<ProviderView, 'id' | 'name' | 'kind' | 'audience'>[]>;
}

export async function updateProvider(ctx: ServiceContext, id: string, input: ProviderInput): Promise<ProviderView> {
  if (input.kind !== undefined) throw new ValidationError('kind', 'kind cannot change; create another provider');
  const before = await rowOf(ctx, id);
  const changes = await changesOf(ctx, input);
  requireComplete({ ...before, ...changes });
  const secret =
    input.client_secret === undefined
      ? undefined
      : (() => {
          const value = secretOf(input.client_secret);
          return value === null ? null : ctx.keyring.seal(value, aadForColumn(SECRET_COLUMN, id));
        })();
  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `an identity provider named ${JSON.stringify(changes.name)} already exists`, () =>
      tx.db
        .update(identityProviders)
        .set({ ...changes, ...(secret === undefined ? {} : { clientSecretEnc: secret }), updatedAt: tx.now() })
        .where(and(eq(identityProviders.orgId, tx.orgId), eq(identityProviders.id, id)))
        .returning(),
    );
    if (!row) throw new NotFoundError('identity provider', id);
    const after = viewOf(row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'identity_provider.update',
      targetType: 'identity_provider',
      targetId: id,
      before: viewOf(before),
      after,
    });
    return after;
  });
}

export async function deleteProvider(ctx: ServiceContext, id: string): Promise<void> {
  const before = await rowOf(ctx, id);
  await inTransaction(ctx, async (tx) => {
    await tx.db.delete(identityProviders).where(and(eq(identityProviders.orgId, tx.orgId), eq(identityProviders.id, id)));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'identity_provider.delete',
      targetType: 'identity_provider',
      targetId: id,
      before: viewOf(before),
    });
  });
}
