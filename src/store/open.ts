/**
 * @module Opens the store: embedded PGlite in a data directory (default) or PostgreSQL from a URL, applies
 * migrations (unless told not to) and returns a `Store` handle. See docs/store.md.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { envValue } from '../config.ts';
import type { Db, Store } from './db.ts';
import { type MigrationReport, migratePglite, migratePostgres } from './migrate.ts';
import { inProcessChannel, postgresChannel } from './notify.ts';
import { acquirePidLock } from './pid-lock.ts';
import * as schema from './schema/index.ts';

export type OpenStoreOptions =
  /** Embedded PGlite persisted under `<dataDir>/pglite`, guarded by `<dataDir>/store.lock`. */
  | { dataDir: string; migrate?: boolean }
  /** PostgreSQL, e.g. `postgres://user:pass@host:5432/db`. */
  | { url: string; migrate?: boolean; poolSize?: number }
  /** In-memory PGlite, optionally cloned from a `dumpDataDir()` tarball (tests). */
  | { memory: true; loadDataDir?: Blob; migrate?: boolean };

export interface OpenedStore extends Store {
  /** What the start-up migration did (`null` when opened with `migrate: false`). */
  readonly migration: MigrationReport | null;
  /** The PGlite instance (only for `kind: 'pglite'`), e.g. to `dumpDataDir()` in tests. */
  readonly pglite: PGlite | null;
}

/** The PGlite files' sub-directory inside a Portcullis data directory. */
export const PGLITE_SUBDIR = 'pglite';
export const LOCK_FILE = 'store.lock';

export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  if ('url' in options) return openPostgres(options.url, options.migrate ?? true, options.poolSize ?? 10);
  if ('dataDir' in options) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const lock = acquirePidLock(join(options.dataDir, LOCK_FILE));
    try {
      const client = await PGlite.create({ dataDir: join(options.dataDir, PGLITE_SUBDIR) });
      return await wrapPglite(client, options.migrate ?? true, () => lock.release());
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  const client = await PGlite.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  return wrapPglite(client, options.migrate ?? true, () => {});
}

async function wrapPglite(client: PGlite, migrate: boolean, onClose: () => void): Promise<OpenedStore> {
  let migration: MigrationReport | null = null;
  try {
    if (migrate) migration = await migratePglite(client);
  } catch (err) {
    await client.close();
    onClose();
    throw err;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  let closed = false;
  const channel = inProcessChannel();
  return {
    kind: 'pglite',
    db,
    migration,
    pglite: client,
    channel,
    async query<Row>(text: string, params?: unknown[]) {
      return (await client.query<Row>(text, params)).rows;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await channel.close();
        await client.close();
      } finally {
        onClose();
      }
    },
  };
}

async function openPostgres(url: string, migrate: boolean, poolSize: number): Promise<OpenedStore> {
  const migration = migrate ? await migratePostgres(url) : null;
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = drizzleNodePg({ client: pool, schema }) as unknown as Db;
  let closed = false;
  const channel = postgresChannel(url, pool);
  return {
    kind: 'postgres',
    db,
    migration,
    pglite: null,
    channel,
    async query<Row>(text: string, params?: unknown[]) {
      return (await pool.query(text, params)).rows as Row[];
    },
    async close() {
      if (closed) return;
      closed = true;
      await channel.close();
      await pool.end();
    },
  };
}

/**
 * Where a direct-store CLI command should open the store: `--database-url` / `PORTCULLIS_DATABASE_URL` selects
 * PostgreSQL; otherwise PGlite in `--data-dir` / `PORTCULLIS_DATA_DIR` / `./data`. `dataDir` is returned in both
 * cases because the key file lives there.
 */
export function storeLocation(
  flags: { dataDir?: string | undefined; databaseUrl?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): { dataDir: string; url: string | null } {
  const dataDir = flags.dataDir !== undefined ? resolve(flags.dataDir) : envValue('PORTCULLIS_DATA_DIR', env);
  if (flags.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(flags.databaseUrl)) {
    throw new Error('--database-url must start with postgres:// or postgresql://');
  }
  const url = flags.databaseUrl ?? envValue('PORTCULLIS_DATABASE_URL', env) ?? null;
  return { dataDir, url };
}

/** `postgres://host:port/db` without credentials, for messages. */
export function describeLocation(location: { dataDir: string; url: string | null }): string {
  if (location.url === null) return `embedded store in ${location.dataDir}`;
  try {
    const parsed = new URL(location.url);
    return `PostgreSQL at ${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}
