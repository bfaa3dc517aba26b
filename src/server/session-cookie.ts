/**
 * @module The session cookie's one set of settings, for the admin sign-in and the portal alike: `pc_session`,
 * HttpOnly, SameSite=Strict, Path=/, Secure over TLS or with `PORTCULLIS_SECURE_COOKIES` (ADR 0014).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './plugins/access.ts';

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  session: { secret: string; expiresAt: Date },
): void {
  reply.setCookie(SESSION_COOKIE, session.secret, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: request.server.config.secureCookies || request.protocol === 'https',
    expires: session.expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
