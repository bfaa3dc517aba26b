/**
 * @module The web UI (web/, docs/ui.md) served by the API process: the files Vite built into `web/dist` at `/`,
 * hashed assets cached for a year, `index.html` never cached, gzip copies sent when the browser takes them, and
 * every other GET that is not an API path answered with `index.html` so the client router can show the page
 * (SPA fallback). Without a build (a checkout where `npm install` did not run `prepare`), `/` says how to build.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../errors.ts';
import { declarePublicByDefault } from './access.ts';

export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths owned by the server or the build: an unknown one is the API's 404, never the web page. */
const NOT_PAGES = /^\/(api|edl|metrics|healthz|readyz|assets)(\/|$|\?)/;

export async function registerWebApp(app: FastifyInstance, dist = WEB_DIST): Promise<void> {
  await app.register(async (web) => {
    declarePublicByDefault(web);
    if (!existsSync(`${dist}index.html`)) {
      web.get('/', { schema: { hide: true } }, async (_request, reply) =>
        reply
          .type('text/plain; charset=utf-8')
          .code(503)
          .send('The web UI is not built. Run `npm run build:web` (npm install does it), then restart.\n'),
      );
      return;
    }
    await web.register(fastifyStatic, {
      root: dist,
      wildcard: false,
      preCompressed: true,
      cacheControl: false,
      // @fastify/static 10 passes the Fastify reply (its types still say ServerResponse).
      setHeaders(reply, path) {
        (reply as unknown as FastifyReply).header(
          'cache-control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    web.get('/*', { schema: { hide: true } }, async (request, reply) => {
      if (NOT_PAGES.test(request.url)) {
        throw new ApiError('PC_ERR_NOT_FOUND', `No route GET ${request.url.split('?')[0]}`);
      }
      reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html');
    });
  });
}
