/**
 * @module Validation of an OpenID Connect Back-Channel Logout 1.0 `logout_token` (§2.4, §2.6; summarised in
 * docs/reference/single-sign-on.md §3). openid-client 6 has no call for it, so the JWS is checked here with node:crypto
 * against the provider's published keys (the same `jwks_uri` openid-client validates ID tokens with): asymmetric
 * algorithms only, `iss` = the issuer, `aud` holds our client id, `iat` present, `exp` not passed, the `events`
 * claim naming the back-channel logout event, `sub` or `sid` present, and no `nonce` (so an ID token can never
 * pass as a logout token).
 */
import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Allowed clock difference between the provider and us. */
const SKEW_SECONDS = 60;
/** Age past which a logout token without `exp` is refused. */
const MAX_AGE_SECONDS = 300;

export interface LogoutClaims {
  sub: string | null;
  sid: string | null;
  jti: string | null;
}

/** A refused logout token; the message names the check, never the token. */
export class LogoutTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogoutTokenError';
  }
}

interface Jwk extends JsonWebKey {
  kid?: string;
  alg?: string;
  use?: string;
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // falls through to the refusal
  }
  throw new LogoutTokenError(`the logout token's ${what} is not a JSON object`);
}

function keyFits(jwk: Jwk, alg: string): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return jwk.kty === 'RSA';
  if (alg.startsWith('ES')) return jwk.kty === 'EC';
  return jwk.kty === 'OKP';
}

function signatureValid(alg: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const bits = alg.slice(2);
  const hash = HASH[bits];
  if (alg === 'EdDSA' || alg === 'Ed25519') return verify(null, data, key, signature);
  if (hash === undefined) return false;
  if (alg.startsWith('RS')) return verify(hash, data, key, signature);
  if (alg.startsWith('PS')) {
    return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 }, signature);
  }
  if (alg.startsWith('ES')) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  return false;
}

const ALGORITHMS = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/;

/**
 * The claims of a valid logout token, or `LogoutTokenError`. `keys` is the provider's JWK set; `nowSeconds`
 * the current time in seconds.
 */
export function validateLogoutToken(
  token: string,
  expected: { issuer: string; clientId: string; keys: readonly Jwk[]; nowSeconds: number },
): LogoutClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new LogoutTokenError('the logout token is not a signed JWT (JWS compact form)');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !ALGORITHMS.test(alg)) {
    throw new LogoutTokenError('the logout token must be signed with an asymmetric algorithm');
  }
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !/^(application\/)?(logout\+)?jwt$/i.test(header.typ))) {
    throw new LogoutTokenError('the logout token has a foreign typ');
  }
  const candidates = expected.keys.filter(
    (jwk) => keyFits(jwk, alg) && (header.kid === undefined || jwk.kid === header.kid),
  );
  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const signed = candidates.some((jwk) => {
    try {
      return signatureValid(alg, createPublicKey({ key: jwk, format: 'jwk' }), data, signature);
    } catch {
      return false;
    }
  });
  if (!signed) throw new LogoutTokenError("the logout token's signature does not verify with the provider's keys");

  const claims = decodeJson(payloadPart, 'payload');
  if (claims.iss !== expected.issuer) throw new LogoutTokenError('the logout token comes from another issuer');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(expected.clientId)) throw new LogoutTokenError('the logout token is for another audience');
  const now = expected.nowSeconds;
  if (typeof claims.iat !== 'number') throw new LogoutTokenError('the logout token has no iat');
  if (claims.iat > now + SKEW_SECONDS) throw new LogoutTokenError('the logout token is issued in the future');
  if (claims.exp !== undefined) {
    if (typeof claims.exp !== 'number' || claims.exp <= now - SKEW_SECONDS) {
      throw new LogoutTokenError('the logout token has expired');
    }
  } else if (claims.iat < now - MAX_AGE_SECONDS) {
    throw new LogoutTokenError('the logout token is too old');
  }
  const events = claims.events;
  if (typeof events !== 'object' || events === null || Array.isArray(events) || !(LOGOUT_EVENT in events)) {
    throw new LogoutTokenError('the logout token has no back-channel logout event');
  }
  if ('nonce' in claims) throw new LogoutTokenError('a logout token must not carry a nonce');
  const sub = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : null;
  const sid = typeof claims.sid === 'string' && claims.sid !== '' ? claims.sid : null;
  if (sub === null && sid === null) throw new LogoutTokenError('the logout token names neither sub nor sid');
  return { sub, sid, jti: typeof claims.jti === 'string' ? claims.jti : null };
}
