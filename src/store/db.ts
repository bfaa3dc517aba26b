/**
 * @module The database handle types shared by every service. `Db` is either the root Drizzle database or a
 * transaction (a Drizzle transaction is a `PgDatabase` too), so services written against `Db` run inside the
 * caller's transaction when given one.
 */
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { StoreChannel } from './notify.ts';
import type * as schema from './schema/index.ts';

export type Schema = typeof schema;

export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type StoreKind = 'pglite' | 'postgres';

export interface Store {
  readonly kind: StoreKind;
  readonly db: Db;
  /** Runs raw SQL and returns its rows (both drivers return `{ rows }`). For tools and tests, not services. */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  /** Messages between the nodes on this store (LISTEN/NOTIFY; in-process on PGlite). */
  readonly channel: StoreChannel;
  /** Closes the connection(s) and releases the PGlite data-dir lock. Idempotent. */
  close(): Promise<void>;
}
