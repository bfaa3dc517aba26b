/**
 * @module Test stores on both engines, so store-backed suites run once per engine.
 *
 * - `freshPglite()`: an in-memory PGlite cloned from a migrated template (built once per worker with
 *   `dumpDataDir`, cloned with `loadDataDir`: ~0.3 s instead of a full init + migrate).
 * - `freshPostgres()`: a uniquely named database on `PORTCULLIS_TEST_DATABASE_URL`, copied from a migrated
 *   template database (`portcullis_tpl_<hash of the migrations>`, kept between runs); `close()` drops it.
 * - `storeKinds()`: both, with `available`/`skipReason` (PostgreSQL only when global setup found a server).
 * - `testContext(store)`: a `ServiceContext` with an in-memory keyring.
 *
 * Importing this module lowers the scrypt cost for new hashes (PORTCULLIS_SCRYPT_LOG_N=14) so suites that create
 * many users stay fast; verification still reads the cost from each hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Actor } from '../../src/audit/record.ts';
import { type ServiceContext, serviceContext } from '../../src/core/context.ts';
import { ensureBuiltinRoles } from '../../src/identity/roles.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import type { StoreKind } from '../../src/store/db.ts';
import { MIGRATIONS_FOLDER } from '../../src/store/migrate.ts';
import { type OpenedStore, openStore } from '../../src/store/open.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';

process.env.PORTCULLIS_SCRYPT_LOG_N ??= '14';

let pgliteTemplate: Promise<Blob> | null = null;

async function buildTemplate(): Promise<Blob> {
  const store = await openStore({ memory: true });
  try {
    await ensureBuiltinRoles(store.db, DEFAULT_ORG_ID);
    return await (store.pglite as NonNullable<OpenedStore['pglite']>).dumpDataDir('none');
  } finally {
    await store.close();
  }
}

/** A migrated in-memory PGlite with the built-in roles, private to the caller. */
export async function freshPglite(): Promise<OpenedStore> {
  pgliteTemplate ??= buildTemplate();
  return openStore({ memory: true, loadDataDir: await pgliteTemplate, migrate: false });
}

export function postgresAvailable(): boolean {
  return process.env.PORTCULLIS_PG_AVAILABLE === '1' && !!process.env.PORTCULLIS_TEST_DATABASE_URL;
}

/** URL of `database` on the test server (same credentials and host). */
function postgresUrlFor(database: string): string {
  const url = new URL(process.env.PORTCULLIS_TEST_DATABASE_URL as string);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates a uniquely named database (empty, or a copy of `template`); returns its name, URL and a dropper. */
export async function createTestDatabase(template?: string): Promise<{
  name: string;
  url: string;
  drop: () => Promise<void>;
}> {
  if (!postgresAvailable()) throw new Error('PostgreSQL is not available (PORTCULLIS_PG_AVAILABLE != 1)');
  const name = `portcullis_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: process.env.PORTCULLIS_TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"${template ? ` template "${template}"` : ''}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: postgresUrlFor(name),
    async drop() {
      const client = new pg.Client({ connectionString: process.env.PORTCULLIS_TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

let pgTemplate: Promise<string> | null = null;

/**
 * A migrated template database named after a hash of the migration files, created once (under an advisory lock,
 * so parallel workers agree) and kept for later runs; templates of older migration sets are dropped.
 */
async function migratedPostgresTemplate(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_FOLDER).sort()) {
    if (file.endsWith('.sql')) hash.update(file).update(readFileSync(join(MIGRATIONS_FOLDER, file)));
  }
  const name = `portcullis_tpl_${hash.digest('hex').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: process.env.PORTCULLIS_TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock(7305012299)');
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like 'portcullis_tpl_%'`,
    );
    if (!rows.some((row) => row.datname === name)) {
      await admin.query(`create database "${name}"`);
      const seeded = await openStore({ url: postgresUrlFor(name), poolSize: 1 });
      await seeded.close();
    }
    for (const row of rows) {
      if (row.datname !== name) await admin.query(`drop database if exists "${row.datname}" with (force)`);
    }
    return name;
  } finally {
    await admin.end();
  }
}

/** A migrated database of its own on the test PostgreSQL server, with the built-in roles; dropped on `close()`. */
export async function freshPostgres(): Promise<OpenedStore> {
  pgTemplate ??= migratedPostgresTemplate();
  const database = await createTestDatabase(await pgTemplate);
  let store: OpenedStore;
  try {
    store = await openStore({ url: database.url, poolSize: 4, migrate: false });
    await ensureBuiltinRoles(store.db, DEFAULT_ORG_ID);
  } catch (err) {
    await database.drop();
    throw err;
  }
  const close = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      await close();
      await database.drop();
    },
  });
}

export interface StoreKindEntry {
  kind: StoreKind;
  available: boolean;
  /** Why the kind is skipped here (printed in the suite name). */
  skipReason: string | null;
  open: () => Promise<OpenedStore>;
}

export function storeKinds(): StoreKindEntry[] {
  const pgOk = postgresAvailable();
  return [
    { kind: 'pglite', available: true, skipReason: null, open: freshPglite },
    {
      kind: 'postgres',
      available: pgOk,
      skipReason: pgOk
        ? null
        : 'SKIPPED: no PostgreSQL (PORTCULLIS_PG_AVAILABLE != 1; see test/global-setup.ts)',
      open: freshPostgres,
    },
  ];
}

/** A service context on `store` with a fresh in-memory keyring (or the given one). */
export function testContext(
  store: Pick<OpenedStore, 'db'>,
  options: { keyring?: Keyring; actor?: Actor; now?: () => Date } = {},
): ServiceContext {
  return serviceContext(store.db, options.keyring ?? Keyring.ephemeral(), {
    orgId: DEFAULT_ORG_ID,
    ...(options.actor ? { actor: options.actor } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}
