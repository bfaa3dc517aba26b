/**
 * @module The store: one Drizzle schema and one set of SQL migrations for embedded PGlite and PostgreSQL.
 */
export type { Db, Schema, Store, StoreKind } from './db.ts';
export { MIGRATIONS_FOLDER, type MigrationReport, migratePglite, migratePostgres } from './migrate.ts';
export {
  describeLocation,
  LOCK_FILE,
  type OpenedStore,
  type OpenStoreOptions,
  openStore,
  PGLITE_SUBDIR,
  storeLocation,
} from './open.ts';
export { StoreLockedError } from './pid-lock.ts';
export { DEFAULT_ORG_ID } from './schema/tenancy.ts';
