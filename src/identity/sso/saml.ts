/**
 * @module SAML 2.0 sign-in for the portal with @node-saml/node-saml 5 (docs/sso.md, docs/reference/single-sign-on.md §4):
 * SP-initiated (HTTP-Redirect AuthnRequest, HTTP-POST Response at the ACS), the assertion's signature checked
 * against the provider's certificates, `Issuer`, `Audience` (our entity id), `NotBefore`/`NotOnOrAfter` and
 * `InResponseTo` — which must name a request this server made in the last ten minutes, used once; the request
 * ids live in the store (`sso_requests`), so any node may receive the response (ADR 0228). Single logout: a
 * signed LogoutRequest from the provider ends the sessions of its NameID and SessionIndex.
 */
import { and, eq, gt, lt } from 'drizzle-orm';
import { type CacheProvider, type Profile, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { ServiceContext } from '../../core/context.ts';
import { ssoRequests } from '../../store/schema/sso.ts';
import type { ProviderConfig } from './providers.ts';
import { type ExternalIdentity, ssoFailure } from './signin.ts';
import { SIGN_IN_WINDOW_SECONDS } from './oidc.ts';

/** Our endpoints for one provider, all under the public origin. */
export interface SamlEndpoints {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
}

export function samlEndpoints(origin: string, providerId: string): SamlEndpoints {
  const base = `${origin}/api/v1/auth/saml/${providerId}`;
  return { entityId: `${base}/metadata`, acsUrl: `${base}/acs`, sloUrl: `${base}/slo` };
}

const keyOf = (requestId: string) => `saml:${requestId}`;

/** node-saml's request-id cache on the store: saved at start, read and removed by the response's validation. */
function requestCache(ctx: ServiceContext, providerId: string): CacheProvider {
  return {
    async saveAsync(requestId, value) {
      const now = ctx.now();
      // Requests never answered go with the next one started.
      await ctx.db.delete(ssoRequests).where(lt(ssoRequests.expiresAt, now));
      await ctx.db.insert(ssoRequests).values({
        key: keyOf(requestId),
        orgId: ctx.orgId,
        providerId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + SIGN_IN_WINDOW_SECONDS * 1000),
      });
      return { value, createdAt: now.getTime() };
    },
    async getAsync(requestId) {
      const [row] = await ctx.db
        .select({ createdAt: ssoRequests.createdAt })
        .from(ssoRequests)
        .where(
          and(
            eq(ssoRequests.key, keyOf(requestId)),
            eq(ssoRequests.providerId, providerId),
            gt(ssoRequests.expiresAt, ctx.now()),
          ),
        )
        .limit(1);
      return row ? row.createdAt.toISOString() : null;
    },
    async removeAsync(requestId) {
      if (requestId === null) return null;
      const [row] = await ctx.db
        .delete(ssoRequests)
        .where(and(eq(ssoRequests.key, keyOf(requestId)), eq(ssoRequests.providerId, providerId)))
        .returning({ key: ssoRequests.key });
      return row ? requestId : null;
    },
  };
}

function samlFor(ctx: ServiceContext, provider: ProviderConfig, endpoints: SamlEndpoints): SAML {
  return new SAML({
    entryPoint: provider.samlEntryPoint as string,
    issuer: endpoints.entityId,
    callbackUrl: endpoints.acsUrl,
    audience: endpoints.entityId,
    idpCert: provider.samlIdpCerts,
    ...(provider.samlIdpEntityId ? { idpIssuer: provider.samlIdpEntityId } : {}),
    ...(provider.samlLogoutUrl ? { logoutUrl: provider.samlLogoutUrl } : {}),
    logoutCallbackUrl: endpoints.sloUrl,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SIGN_IN_WINDOW_SECONDS * 1000,
    acceptedClockSkewMs: 60_000,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    cacheProvider: requestCache(ctx, provider.id),
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 300) : 'unknown error';
}

/** The URL of the provider's sign-on endpoint with a fresh AuthnRequest (its id remembered for `InResponseTo`). */
export async function startSamlSignIn(
  ctx: ServiceContext,
  provider: ProviderConfig,
  endpoints: SamlEndpoints,
): Promise<string> {
  return samlFor(ctx, provider, endpoints).getAuthorizeUrlAsync('', undefined, {});
}

function attributesOf(profile: Profile): Record<string, unknown> {
  const attributes = profile.attributes;
  return typeof attributes === 'object' && attributes !== null ? { ...(attributes as Record<string, unknown>) } : {};
}

/** Validates a posted `SAMLResponse` and returns who it names. */
export async function finishSamlSignIn(
  ctx: ServiceContext,
  provider: ProviderConfig,
  endpoints: SamlEndpoints,
  samlResponse: string,
): Promise<ExternalIdentity> {
  let profile: Profile | null;
  try {
    ({ profile } = await samlFor(ctx, provider, endpoints).validatePostResponseAsync({ SAMLResponse: samlResponse }));
  } catch (err) {
    throw ssoFailure(`The provider's SAML response was refused (${describe(err)})`);
  }
  if (!profile?.nameID) throw ssoFailure('The SAML response names no subject');
  return {
    subject: profile.nameID,
    sessionId: profile.sessionIndex ?? null,
    claims: attributesOf(profile),
    defaultUsername: profile.nameID,
  };
}

export interface SamlLogout {
  subject: string;
  sessionId: string | null;
  /** Where to send the browser with our LogoutResponse, or null when the provider has no logout URL. */
  responseUrl: string | null;
}

/**
 * Validates a LogoutRequest from the provider (HTTP-Redirect: `query` and its raw text, signature over the
 * query; HTTP-POST: `SAMLRequest` in `body`, XML signature) and returns whom it signs out.
 */
export async function acceptSamlLogout(
  ctx: ServiceContext,
  provider: ProviderConfig,
  endpoints: SamlEndpoints,
  message: { query: Record<string, string>; rawQuery: string } | { body: Record<string, string> },
): Promise<SamlLogout> {
  // node-saml checks a redirect message's signature only when one is present (docs/reference/single-sign-on.md §4.4).
  if ('query' in message && !message.query.Signature) throw ssoFailure('The logout request is not signed');
  const saml = samlFor(ctx, provider, endpoints);
  let profile: Profile | null;
  try {
    ({ profile } =
      'body' in message
        ? await saml.validatePostRequestAsync(message.body)
        : await saml.validateRedirectAsync(message.query, message.rawQuery));
  } catch (err) {
    throw ssoFailure(`The provider's logout request was refused (${describe(err)})`);
  }
  if (!profile?.nameID) throw ssoFailure('The logout request names no subject');
  const relayState = ('body' in message ? message.body.RelayState : message.query.RelayState) ?? '';
  const responseUrl = provider.samlLogoutUrl
    ? await saml.getLogoutResponseUrlAsync(profile, relayState, {}, true)
    : null;
  return { subject: profile.nameID, sessionId: profile.sessionIndex ?? null, responseUrl };
}

/** Our SP metadata: entity id, ACS (HTTP-POST) and SLO endpoints, for the provider's administrator. */
export function samlMetadata(ctx: ServiceContext, provider: ProviderConfig, endpoints: SamlEndpoints): string {
  return samlFor(ctx, provider, endpoints).generateServiceProviderMetadata(null, null);
}
