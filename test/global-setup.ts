/**
 * @module Vitest global setup: decides once whether the PostgreSQL suite can run.
 *
 * The URL comes from PORTCULLIS_TEST_DATABASE_URL (set by .ci/run) or the local default
 * postgres://postgres@127.0.0.1:5432/test. When it is unreachable the PostgreSQL suite is skipped and says so,
 * unless PORTCULLIS_REQUIRE_PG=1 (CI), where an unreachable server fails the run.
 */
import pg from 'pg';

export default async function setup(): Promise<void> {
  const url = process.env.PORTCULLIS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    process.env.PORTCULLIS_TEST_DATABASE_URL = url;
    process.env.PORTCULLIS_PG_AVAILABLE = '1';
  } catch (err) {
    if (process.env.PORTCULLIS_REQUIRE_PG === '1') {
      throw new Error(`PostgreSQL required but unreachable at ${url}: ${(err as Error).message}`);
    }
    process.env.PORTCULLIS_PG_AVAILABLE = '0';
    console.warn(`\n[portcullis] PostgreSQL suite SKIPPED: no server at ${url} (${(err as Error).message}).\n`);
  } finally {
    await client.end().catch(() => {});
  }
}
