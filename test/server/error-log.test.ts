/**
 * @module A failed database query is logged with its SQLSTATE and message, never with its parameters (issue 8,
 * finding 5: a new user's password hash reached the log through a failed insert's parameter list).
 */
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { buildApp } from '../../src/server/app.ts';
import { serializeError } from '../../src/server/plugins/observability.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { freshPglite } from '../helpers/store.ts';

const SECRET = 'scrypt$17$8$1$c2VjcmV0LXNhbHQ$not-a-real-hash-but-secret';

/** A route whose query fails in the database with a secret among its parameters. */
const failingRoute: FastifyPluginAsync = async (app) => {
  app.post('/fail', { config: { auth: 'public' } }, async () => {
    await app.store.db.execute(sql`select ${SECRET}::int as n`);
    return {};
  });
};

describe('error logs', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  let store: OpenedStore;
  let app: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    store = await freshPglite();
    app = await buildApp({
      store,
      keyring: Keyring.ephemeral(),
      config: loadConfig({}),
      logger: { level: 'trace', stream: sink },
      routeModules: [failingRoute],
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('logs a failed query with its SQLSTATE and statement but without its parameters', async () => {
    const res = await app.inject({ method: 'POST', url: '/fail' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain(SECRET);
    const failed = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request failed');
    expect(failed?.err?.message).toContain('Failed query');
    // The database's own reason and SQLSTATE (22P02: invalid text representation) are kept for the operator.
    expect(JSON.stringify(failed.err)).toContain('22P02');
    expect(JSON.stringify(failed.err)).toContain('invalid input syntax for type integer');
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(lines.join('\n')).not.toContain('c2VjcmV0LXNhbHQ');
  });

  it('keeps type, message, code and frames of an ordinary error and its cause', () => {
    const cause = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    const out = serializeError(new Error('store down', { cause }));
    expect(out).toMatchObject({
      type: 'Error',
      message: 'store down',
      cause: { type: 'Error', message: 'connection refused', code: 'ECONNREFUSED' },
    });
    expect(String(out.stack)).toMatch(/^ {4}at /);
  });

  it('drops a database error’s detail, which quotes the values it conflicts on', () => {
    const pgError = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      detail: `Key (password_hash)=(${SECRET}) already exists.`,
    });
    expect(JSON.stringify(serializeError(pgError))).not.toContain(SECRET);
  });
});
