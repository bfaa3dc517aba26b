/**
 * @module Resolves credentials to a principal with the identity services: API tokens
 * (`authenticateApiToken`, rights already narrowed to the token's list) and session cookies
 * (`validateSession` + `resolvePermissions`, with the CSRF header checked against the session).
 *
 * Every request reads the store, so a revoked token, a signed-out session or a deleted user stops working
 * on the very next request; nothing is cached (ADR 0013).
 */
import { AuthenticationError } from '../errors.ts';
import { resolvePermissions } from '../identity/effective.ts';
import { validateSession, verifyCsrf } from '../identity/sessions.ts';
import { authenticateApiToken } from '../identity/tokens.ts';
import type { Store } from '../store/index.ts';
import type { AuthBackend } from './plugins/access.ts';

/** `null` for the "credential not valid" answers; anything else (store down) propagates as a 5xx. */
async function unlessInvalid<T>(work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AuthenticationError) return null;
    throw err;
  }
}

export function createAuthBackend(store: Store): AuthBackend {
  return {
    fromToken: (presented) =>
      unlessInvalid(async () => {
        const { token, user, permissions } = await authenticateApiToken(store.db, presented);
        return {
          kind: 'token' as const,
          userId: user.id,
          orgId: user.orgId,
          username: user.username,
          credentialId: token.id,
          tokenName: token.name,
          permissions,
        };
      }),
    fromSession: (cookie, csrfHeader) =>
      unlessInvalid(async () => {
        const session = await validateSession(store.db, cookie);
        const permissions = await resolvePermissions(store.db, session.orgId, session.userId);
        return {
          principal: {
            kind: 'session' as const,
            userId: session.userId,
            orgId: session.orgId,
            username: session.username,
            credentialId: session.id,
            permissions,
          },
          csrfValid: verifyCsrf(session, csrfHeader),
        };
      }),
  };
}
