/**
 * @module Migration 0003 (org_id on knoc_users, knoc_groups, edl_fetches) on a database already holding rows
 * written under 0002: each row takes the org of its knoc, then the column is NOT NULL. Runs on PGlite and on
 * PostgreSQL (when the test server is up).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePgliteFolder } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, migratePglite, migratePostgres } from '../../src/store/migrate.ts';
import { createTestDatabase, postgresAvailable } from '../helpers/store.ts';

/** The last migration before org_id reached the access link tables. */
const BEFORE_TAG = '0002_access';
const ORG_A = '00000000-0000-4000-8000-00000000000a';
const ORG_B = '00000000-0000-4000-8000-00000000000b';

type Query = (text: string) => Promise<{ rows: unknown[] }>;

/** A copy of the migrations folder whose journal stops at BEFORE_TAG. */
function foldersUpTo(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-migrations-'));
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const end = journal.entries.findIndex((entry) => entry.tag === tag);
  if (end < 0) throw new Error(`no migration tagged ${tag}`);
  journal.entries = journal.entries.slice(0, end + 1);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

/** Two orgs, each with a site, gateway, knoc, user, group, both assignments and one EDL fetch. */
async function seedTwoOrgs(query: Query): Promise<void> {
  for (const [org, n] of [
    [ORG_A, 'a'],
    [ORG_B, 'b'],
  ] as const) {
    await query(`insert into orgs (id, name) values ('${org}', 'org-${n}') on conflict do nothing`);
    await query(`
      with s as (insert into sites (org_id, name) values ('${org}', 'site-${n}') returning id),
           g as (insert into gateways (org_id, site_id, name, vendor, url, api_key_enc)
                 select '${org}', s.id, 'gw-${n}', 'pfsense', 'https://127.0.0.1', 'x' from s returning id, site_id),
           k as (insert into knocs (org_id, site_id, gateway_id, name, mode, alias_name, grant_ttl_seconds,
                                    max_ttl_seconds)
                 select '${org}', g.site_id, g.id, 'knoc-${n}', 'passive', 'PC_${n}', 60, 120 from g returning id),
           u as (insert into users (org_id, username, password_hash) values ('${org}', 'user-${n}', 'h') returning id),
           gr as (insert into groups (org_id, name) values ('${org}', 'group-${n}') returning id),
           ku as (insert into knoc_users (knoc_id, user_id) select k.id, u.id from k, u returning 1),
           kg as (insert into knoc_groups (knoc_id, group_id) select k.id, gr.id from k, gr returning 1)
      insert into edl_fetches (knoc_id, source_ip, status, format) select k.id, '127.0.0.1', 200, 'txt' from k`);
  }
}

/** Per table: each row's org_id next to its knoc's, and whether the column is nullable. */
async function orgColumns(query: Query) {
  const result: Record<string, unknown> = {};
  for (const table of ['knoc_users', 'knoc_groups', 'edl_fetches']) {
    const { rows } = await query(
      `select t.org_id::text as row_org, k.org_id::text as knoc_org from ${table} t join knocs k on k.id = t.knoc_id
        order by 1`,
    );
    const nullable = await query(
      `select is_nullable from information_schema.columns where table_name = '${table}' and column_name = 'org_id'`,
    );
    result[table] = { rows, nullable: nullable.rows };
  }
  return result;
}

const EXPECTED = Object.fromEntries(
  ['knoc_users', 'knoc_groups', 'edl_fetches'].map((table) => [
    table,
    {
      rows: [
        { row_org: ORG_A, knoc_org: ORG_A },
        { row_org: ORG_B, knoc_org: ORG_B },
      ],
      nullable: [{ is_nullable: 'NO' }],
    },
  ]),
);

let oldFolder: string;
beforeAll(() => {
  oldFolder = foldersUpTo(BEFORE_TAG);
});
afterAll(() => {
  rmSync(oldFolder, { recursive: true, force: true });
});

describe('migration 0003: org_id backfilled from the knoc', () => {
  it('PGlite: rows written before the migration take their knoc’s org; the column is NOT NULL', async () => {
    const client = new PGlite();
    try {
      await migratePgliteFolder(drizzlePglite({ client }), { migrationsFolder: oldFolder });
      await seedTwoOrgs((text) => client.exec(text).then(() => ({ rows: [] })));
      await migratePglite(client);
      expect(await orgColumns((text) => client.query(text))).toEqual(EXPECTED);
      await expect(
        client.query(`insert into knoc_users (knoc_id, user_id) select knoc_id, user_id from knoc_users limit 1`),
      ).rejects.toThrow(/org_id/);
    } finally {
      await client.close();
    }
  });

  it.skipIf(!postgresAvailable())('PostgreSQL: the same backfill', async () => {
    const database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await migrateNodePg(drizzleNodePg({ client }), { migrationsFolder: oldFolder });
      await seedTwoOrgs((text) => client.query(text));
      await migratePostgres(database.url);
      expect(await orgColumns((text) => client.query(text))).toEqual(EXPECTED);
    } finally {
      await client.end();
      await database.drop();
    }
  });
});
