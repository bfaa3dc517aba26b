/**
 * @module OpenID Connect sign-in with openid-client 6 (authorization code + PKCE S256, state, nonce; the ID
 * token validated by openid-client: signature against the provider's keys, `iss`, `aud`, `azp`, `exp`, `iat`,
 * `nonce`), and back-channel
 * logout (docs/sso.md, docs/reference/single-sign-on.md §1).
 *
 * The browser that starts a sign-in gets a random binding in an HttpOnly cookie; the store keeps only the
 * hash of `state` (the request's key) and of the binding, and the PKCE verifier is derived from the binding, so
 * the callback works only in that browser and nothing stored can redeem a code (ADR 0226).
 */
import { createHmac } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import * as client from 'openid-client';
import type { ServiceContext } from '../../core/context.ts';
import { ssoRequests } from '../../store/schema/sso.ts';
import { randomSecret, sha256Hex } from '../sessions.ts';
import { type LogoutClaims, LogoutTokenError, validateLogoutToken } from './logout-token.ts';
import type { ProviderConfig } from './providers.ts';
import { type ExternalIdentity, ssoFailure } from './signin.ts';

/** How long a started sign-in may take to come back. */
export const SIGN_IN_WINDOW_SECONDS = 600;
/** How long a discovered provider configuration (metadata, keys) is reused. */
const DISCOVERY_TTL_MS = 10 * 60_000;

interface Discovered {
  config: client.Configuration;
  /** The provider row's `updated_at`: a change to the provider discovers again. */
  version: number;
  fetchedAt: number;
  jwks?: { keys: Record<string, unknown>[]; fetchedAt: number };
}

const discovered = new Map<string, Discovered>();

function insecureAllowed(issuer: string): boolean {
  return new URL(issuer).protocol === 'http:';
}

/** The provider's openid-client configuration, discovered (`<issuer>/.well-known/openid-configuration`) and cached. */
async function configurationOf(provider: ProviderConfig, now: number): Promise<Discovered> {
  const version = provider.updatedAt.getTime();
  const cached = discovered.get(provider.id);
  if (cached && cached.version === version && now - cached.fetchedAt < DISCOVERY_TTL_MS) return cached;
  const issuer = provider.issuer as string;
  const clientId = provider.clientId as string;
  let metadata: client.ServerMetadata;
  try {
    const found = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
      ...(insecureAllowed(issuer) ? { execute: [client.allowInsecureRequests] } : {}),
      timeout: 10,
    });
    metadata = found.serverMetadata();
  } catch (err) {
    throw ssoFailure(`The provider's discovery document could not be read (${describe(err)})`);
  }
  // Spec default is client_secret_basic; client_secret_post only when the provider lists it and not basic.
  const methods = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  const auth =
    provider.clientSecret === null
      ? client.None()
      : methods.includes('client_secret_basic') || !methods.includes('client_secret_post')
        ? client.ClientSecretBasic(provider.clientSecret)
        : client.ClientSecretPost(provider.clientSecret);
  const config = new client.Configuration(metadata, clientId, undefined, auth);
  if (insecureAllowed(issuer)) client.allowInsecureRequests(config);
  // The ID token's signature is checked too, not only trusted for arriving over TLS (OIDC Core §3.1.3.7 item 6
  // allows that shortcut; a forged token from a compromised path must still fail).
  client.enableNonRepudiationChecks(config);
  const entry: Discovered = { config, version, fetchedAt: now };
  discovered.set(provider.id, entry);
  return entry;
}

/** A safe one-line reason: openid-client's error code and message (they never contain a token). */
function describe(err: unknown): string {
  if (err instanceof client.AuthorizationResponseError) {
    return `the provider answered ${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}`.slice(0, 300);
  }
  return 'unknown error';
}

function verifierOf(binding: string): string {
  return createHmac('sha256', binding).update('portcullis pkce v1').digest('base64url');
}

export interface StartedSignIn {
  /** Where to send the browser. */
  url: string;
  /** The browser binding, for the HttpOnly cookie (never stored). */
  binding: string;
}

export async function startOidcSignIn(
  ctx: ServiceContext,
  provider: ProviderConfig,
  redirectUri: string,
): Promise<StartedSignIn> {
  const now = ctx.now();
  const { config } = await configurationOf(provider, now.getTime());
  const binding = randomSecret();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const challenge = await client.calculatePKCECodeChallenge(verifierOf(binding));
  await ctx.db.delete(ssoRequests).where(lt(ssoRequests.expiresAt, now));
  await ctx.db.insert(ssoRequests).values({
    key: sha256Hex(state),
    orgId: ctx.orgId,
    providerId: provider.id,
    bindingHash: sha256Hex(binding),
    nonce,
    createdAt: now,
    expiresAt: new Date(now.getTime() + SIGN_IN_WINDOW_SECONDS * 1000),
  });
  const scopes = provider.scopes.includes('openid') ? provider.scopes : ['openid', ...provider.scopes];
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: scopes.join(' '),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url: url.href, binding };
}

/**
 * Finishes a sign-in at the callback: the request named by `state` (single use, within its window, started by
 * this browser) is consumed, the code redeemed with its PKCE verifier, and the ID token validated by
 * openid-client; the userinfo claims are merged in when the provider has a userinfo endpoint.
 */
export async function finishOidcSignIn(
  ctx: ServiceContext,
  provider: ProviderConfig,
  input: { redirectUri: string; query: URLSearchParams; binding: string | undefined },
): Promise<ExternalIdentity> {
  const state = input.query.get('state');
  if (!state) throw ssoFailure('The provider came back without state');
  const [request] = await ctx.db
    .delete(ssoRequests)
    .where(
      and(
        eq(ssoRequests.key, sha256Hex(state)),
        eq(ssoRequests.providerId, provider.id),
        gt(ssoRequests.expiresAt, ctx.now()),
      ),
    )
    .returning();
  if (!request) throw ssoFailure('This sign-in is unknown, was already used or has expired; start again');
  if (!input.binding || sha256Hex(input.binding) !== request.bindingHash) {
    throw ssoFailure('This sign-in was started in another browser; start again here');
  }
  const { config } = await configurationOf(provider, ctx.now().getTime());
  const current = new URL(input.redirectUri);
  current.search = input.query.toString();
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: verifierOf(input.binding),
      expectedState: state,
      expectedNonce: request.nonce ?? undefined,
      idTokenExpected: true,
    });
  } catch (err) {
    throw ssoFailure(`The provider's answer was refused (${describe(err)})`);
  }
  const idClaims = tokens.claims();
  if (!idClaims) throw ssoFailure('The provider returned no ID token');
  let claims: Record<string, unknown> = { ...idClaims };
  if (config.serverMetadata().userinfo_endpoint) {
    try {
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...info, ...idClaims };
    } catch (err) {
      throw ssoFailure(`The provider's userinfo could not be read (${describe(err)})`);
    }
  }
  const preferred = claims.preferred_username ?? claims.email;
  return {
    subject: idClaims.sub,
    sessionId: typeof idClaims.sid === 'string' ? idClaims.sid : null,
    claims,
    defaultUsername: typeof preferred === 'string' ? preferred : null,
  };
}

/** The provider's published keys, fetched from its `jwks_uri` (again when a token names an unknown `kid`). */
async function keysOf(entry: Discovered, now: number, refresh: boolean): Promise<Record<string, unknown>[]> {
  if (entry.jwks && !refresh && now - entry.jwks.fetchedAt < DISCOVERY_TTL_MS) return entry.jwks.keys;
  const uri = entry.config.serverMetadata().jwks_uri;
  if (!uri) throw new LogoutTokenError('the provider publishes no jwks_uri');
  const response = await fetch(uri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { keys?: unknown };
  if (!response.ok || !Array.isArray(body.keys)) throw new LogoutTokenError("the provider's key set could not be read");
  entry.jwks = { keys: body.keys as Record<string, unknown>[], fetchedAt: now };
  return entry.jwks.keys;
}

/** Validates a back-channel `logout_token` for `provider`; `LogoutTokenError` when it is refused. */
export async function verifyOidcLogoutToken(
  ctx: ServiceContext,
  provider: ProviderConfig,
  token: string,
): Promise<LogoutClaims> {
  const now = ctx.now().getTime();
  const entry = await configurationOf(provider, now);
  const expected = {
    issuer: entry.config.serverMetadata().issuer,
    clientId: provider.clientId as string,
    nowSeconds: Math.floor(now / 1000),
  };
  try {
    return validateLogoutToken(token, { ...expected, keys: await keysOf(entry, now, false) });
  } catch (err) {
    // A key rotated since the last fetch: read the set once more before refusing.
    if (!(err instanceof LogoutTokenError) || !err.message.includes('signature')) throw err;
    return validateLogoutToken(token, { ...expected, keys: await keysOf(entry, now, true) });
  }
}
