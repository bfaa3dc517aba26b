/**
 * @module Third-party plugins: security headers, cookies, and the OpenAPI 3.1 document generated from the
 * route schemas (`/api/openapi.json`) with its browsable UI (`/api/docs`).
 */
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../errors.ts';
import { declarePublicByDefault } from './access.ts';

/** Security headers and cookie parsing: registered first, so their hooks run before authentication. */
export async function registerHttpPlugins(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    // The docs UI loads its own script and styles from /api/docs/static; nothing comes from elsewhere.
    contentSecurityPolicy: {
      directives: { 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null },
    },
  });
  await app.register(cookie);
}

/** OpenAPI generation and the docs UI: registered after access control so their routes are declared too. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Portcullis API',
        version: '0.1.0',
        description: `Firewall control plane. Every error uses one envelope; codes: ${ERROR_CODES.join(', ')}.`,
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API token `pc_<prefix>_<secret>`' },
          session: { type: 'apiKey', in: 'cookie', name: 'pc_session' },
        },
      },
    },
    // Shared schemas keep their `$id` as the component name instead of `def-N` (fastify/fastify-swagger#612).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(async (docs) => {
    declarePublicByDefault(docs);
    await docs.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  });
}
