/**
 * @module The web UI (web/, docs/ui.md) served by the API process: the files Vite built into `web/dist` at `/`,
 * hashed assets cached for a year, `index.html` never cached, gzip copies sent when the browser takes them, and
 * every other GET that is not an API path answered with `index.html` so the client router can show the page
 * (SPA fallback). Without a build (a checkout where `npm install` did not run `prepare`), pages say how to build.
 * Two routes (`/`, `/*`) whatever the build holds, hidden from the OpenAPI document.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import { declarePublicByDefault } from './access.ts';

const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths owned by the server: an unknown one is the API's 404, never the web page. */
const SERVER_PATHS = /^\/(api|edl|metrics|healthz|readyz)(\/|$|\?)/;
/** A request for a built file (`/assets/…`, or any last segment with an extension), not a page. */
const FILE_PATH = /^\/(assets\/|[^/?]*\.[A-Za-z0-9]+(\?|$))/;

export async function registerWebApp(app: FastifyInstance, dist = WEB_DIST): Promise<void> {
  await app.register(async (web) => {
    declarePublicByDefault(web);
    const built = existsSync(`${dist}index.html`);
    if (built) {
      await web.register(fastifyStatic, {
        root: dist,
        serve: false,
        preCompressed: true,
        cacheControl: false,
        // @fastify/static 10 passes the Fastify reply (its types still say ServerResponse).
        setHeaders(reply, path) {
          (reply).header(
            'cache-control',
            path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      });
    }
    const page = async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0] as string;
      if (SERVER_PATHS.test(request.url)) throw new ApiError('PC_ERR_NOT_FOUND', `No route GET ${path}`);
      if (!built) {
        return reply
          .type('text/plain; charset=utf-8')
          .code(503)
          .send('The web UI is not built. Run `npm run build:web` (npm install does it), then restart.\n');
      }
      if (FILE_PATH.test(request.url)) return reply.sendFile(decodeURIComponent(path.slice(1)));
      return reply.sendFile('index.html');
    };
    web.get('/', { schema: { hide: true } }, page);
    web.get('/*', { schema: { hide: true } }, page);
  });
}
