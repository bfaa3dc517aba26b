/**
 * @module The one client address of a request, for everything that needs one: sign-in throttling, audit
 * entries, grants (portal, knock) and EDL feed source checks. It is the socket peer, or the first untrusted
 * `X-Forwarded-For` hop when the peer is a proxy of `PORTCULLIS_TRUST_PROXY` (src/net/client-ip.ts,
 * docs/adr/0070-ssrf-and-client-ip.md). Resolved once per request.
 */
import type { FastifyRequest } from 'fastify';
import { resolveClientAddress } from '../net/client-ip.ts';

const resolved = new WeakMap<FastifyRequest, string>();

export function clientAddress(request: FastifyRequest): string {
  let ip = resolved.get(request);
  if (ip === undefined) {
    ip = resolveClientAddress(
      { socketAddress: request.socket.remoteAddress, forwardedFor: request.headers['x-forwarded-for'] },
      // The access runtime's settings (tests and the lab adjust them); apps without it use the config's.
      (request.server.hasDecorator('access') ? request.server.access.settings : request.server.config.access)
        .trustedProxies,
    ).ip;
    resolved.set(request, ip);
  }
  return ip;
}
