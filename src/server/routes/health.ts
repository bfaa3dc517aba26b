/**
 * @module Operational endpoints: liveness (`/healthz`), readiness (`/readyz`: the store answers and every
 * committed migration is applied), Prometheus metrics (`/metrics`) and the OpenAPI document.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { MIGRATIONS_FOLDER } from '../../store/index.ts';
import { ApiError } from '../errors.ts';

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
  entries: unknown[];
};
const EXPECTED_MIGRATIONS = journal.entries.length;

const Status = Type.Object({ status: Type.String() }, { additionalProperties: false });
const Readiness = Type.Object(
  { status: Type.String(), store: Type.String(), migrations: Type.Integer() },
  { additionalProperties: false },
);

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/healthz',
    { config: { auth: 'public' }, schema: { tags: ['operations'], response: { 200: Status } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    { config: { auth: 'public' }, schema: { tags: ['operations'], response: { 200: Readiness } } },
    async (request) => {
      let applied: number;
      try {
        const rows = await app.store.query<{ n: number }>(
          'select count(*)::int as n from drizzle.__drizzle_migrations',
        );
        applied = rows[0]?.n ?? 0;
      } catch (err) {
        request.log.warn({ err }, 'readiness: store unreachable');
        throw new ApiError('PC_ERR_UNAVAILABLE', 'The store is not reachable.');
      }
      if (applied < EXPECTED_MIGRATIONS) {
        throw new ApiError(
          'PC_ERR_UNAVAILABLE',
          `Migrations pending: ${applied} of ${EXPECTED_MIGRATIONS} applied.`,
        );
      }
      return { status: 'ready', store: app.store.kind, migrations: applied };
    },
  );

  app.get('/metrics', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(app.metricsRegistry.contentType);
    return app.metricsRegistry.metrics();
  });

  app.get('/api/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
};
