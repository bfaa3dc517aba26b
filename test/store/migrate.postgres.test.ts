/**
 * @module Migrations on PostgreSQL under the advisory lock: nodes starting together on one fresh database all
 * succeed and the schema is applied once (in-process and as separate `portcullis migrate` processes).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, migratePostgres } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open.ts';
import { createTestDatabase, storeKinds } from '../helpers/store.ts';

const run = promisify(execFile);
const postgres = storeKinds().find((k) => k.kind === 'postgres');
/** How many migrations the repository holds (grows as domains add theirs). */
const MIGRATIONS = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length;

async function inspect(url: string) {
  const store = await openStore({ url, migrate: false, poolSize: 1 });
  try {
    return {
      migrations: await store.query<{ n: number }>(
        'select count(*)::int as n from drizzle.__drizzle_migrations',
      ),
      orgs: await store.query<{ n: number }>('select count(*)::int as n from orgs'),
    };
  } finally {
    await store.close();
  }
}

describe.skipIf(!postgres?.available)(
  `migrations on PostgreSQL${postgres?.skipReason ? ` — ${postgres.skipReason}` : ''}`,
  { timeout: 120_000 },
  () => {
    it('four concurrent migrations on a fresh database all succeed; the schema is applied once', async () => {
      const database = await createTestDatabase();
      try {
        const reports = await Promise.all([1, 2, 3, 4].map(() => migratePostgres(database.url)));
        expect(reports.map((r) => r.applied).sort()).toEqual([0, 0, 0, MIGRATIONS]);
        expect(reports.every((r) => r.total === MIGRATIONS)).toBe(true);
        expect(await inspect(database.url)).toEqual({ migrations: [{ n: MIGRATIONS }], orgs: [{ n: 1 }] });
      } finally {
        await database.drop();
      }
    });

    it('two `portcullis migrate` processes started together both succeed', async () => {
      const database = await createTestDatabase();
      try {
        const outputs = await Promise.all(
          [1, 2].map(() =>
            run(process.execPath, ['bin/portcullis.js', 'migrate', '--database-url', database.url, '--json']),
          ),
        );
        const results = outputs.map(
          (o) => JSON.parse(o.stdout) as { store: string; applied: number; total: number },
        );
        expect(results.map((r) => r.applied).sort()).toEqual([0, MIGRATIONS]);
        expect(results.every((r) => r.store === 'postgres' && r.total === MIGRATIONS)).toBe(true);
        expect(outputs.map((o) => o.stdout + o.stderr).join('')).not.toContain(database.url);
        expect(await inspect(database.url)).toEqual({ migrations: [{ n: MIGRATIONS }], orgs: [{ n: 1 }] });
      } finally {
        await database.drop();
      }
    });
  },
);
