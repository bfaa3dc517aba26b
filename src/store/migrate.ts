/**
 * @module Applies the committed SQL migrations (src/store/migrations) at start.
 *
 * Drizzle's `migrate()` takes no lock (drizzle-team/drizzle-orm#874), so on PostgreSQL we hold a session-level
 * `pg_advisory_lock` on one dedicated connection for the whole run: nodes starting together queue on the lock,
 * the first applies the migrations, the others then find nothing left to do. PGlite is single-connection and
 * guarded by the data-dir pid lock, so it needs no advisory lock. See ADR 0001.
 */
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as runPgliteMigrator } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** Advisory-lock key reserved for schema migrations (any constant bigint, shared by every node). */
const MIGRATION_LOCK_KEY = 7_305_012_201;

export interface MigrationReport {
  /** Migrations applied by this call (0 when the schema was already current). */
  applied: number;
  /** Migrations recorded in the database after this call. */
  total: number;
}

const COUNT_SQL = `select count(*)::int as n from drizzle.__drizzle_migrations`;
const HAS_TABLE_SQL = `select to_regclass('drizzle.__drizzle_migrations') is not null as present`;

async function countApplied(query: (text: string) => Promise<{ rows: unknown[] }>): Promise<number> {
  const { rows } = await query(HAS_TABLE_SQL);
  if (!(rows[0] as { present: boolean }).present) return 0;
  const counted = await query(COUNT_SQL);
  return (counted.rows[0] as { n: number }).n;
}

export async function migratePglite(client: PGlite): Promise<MigrationReport> {
  const before = await countApplied((text) => client.query(text));
  await runPgliteMigrator(drizzlePglite({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
  const total = await countApplied((text) => client.query(text));
  return { applied: total - before, total };
}

/** Migrates the PostgreSQL database at `url` on a dedicated connection holding the migration advisory lock. */
export async function migratePostgres(url: string): Promise<MigrationReport> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const before = await countApplied((text) => client.query(text));
      await migrateNodePg(drizzleNodePg({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
      const total = await countApplied((text) => client.query(text));
      return { applied: total - before, total };
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
