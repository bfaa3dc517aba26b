/**
 * @module `serve` on PostgreSQL with two nodes starting together on one fresh database: migrations and the
 * owner bootstrap happen once (one banner), both nodes become ready, and the owner printed by one node signs in
 * on the other. Skipped, saying why, without a PostgreSQL server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { createTestDatabase, storeKinds } from '../helpers/store.ts';

const postgres = storeKinds().find((k) => k.kind === 'postgres');

describe.skipIf(!postgres?.available)(
  `serve: two nodes on one PostgreSQL${postgres?.skipReason ? ` — ${postgres.skipReason}` : ''}`,
  () => {
    it('migrates and bootstraps once, and both nodes serve the same owner', async () => {
      const database = await createTestDatabase();
      const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'portcullis-node-')));
      const banners: string[][] = [[], []];
      const servers: RunningServer[] = [];
      try {
        const started = await Promise.all(
          dirs.map((dataDir, i) =>
            startServer(
              loadConfig(
                {},
                { host: '127.0.0.1', port: 0, dataDir, databaseUrl: database.url, logLevel: 'silent' },
              ),
              { banner: (text) => banners[i]?.push(text) },
            ),
          ),
        );
        servers.push(...started);
        const printed = banners.flat().filter((text) => text.includes('Password'));
        expect(printed).toHaveLength(1);
        const password = /Password \(shown once[^:]*\): (\S+)/.exec(printed[0] as string)?.[1];
        for (const server of servers) {
          const ready = await fetch(`${server.url}/readyz`);
          expect(ready.status).toBe(200);
          expect(await ready.json()).toMatchObject({ store: 'postgres' });
        }
        const other = servers[banners[0]?.length ? 1 : 0] as RunningServer;
        const login = await fetch(`${other.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password }),
        });
        expect(login.status).toBe(200);
        const owners = await servers[0]?.store.query<{ n: number }>('select count(*)::int as n from users');
        expect(owners?.[0]?.n).toBe(1);
      } finally {
        for (const server of servers) await server.stop();
        await database.drop();
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
