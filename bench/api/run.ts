/**
 * @module API benchmark: the real app on PGlite and on PostgreSQL, driven by autocannon over loopback.
 *
 * Per store it measures, in the same run: unauthenticated `GET /healthz` (the baseline: framework + socket
 * cost only), an authenticated list (`GET /api/v1/sites`, bearer token: token lookup + permission
 * resolution + query) and an authenticated create (`POST /api/v1/groups`: validation, transaction, audit
 * row). Prints req/s, p50/p99 latency and each endpoint's throughput as a ratio of the baseline.
 *
 *   npx tsx bench/api/run.ts [--duration 10] [--connections 10] [--stores pglite,postgres]
 *
 * PostgreSQL comes from PORTCULLIS_BENCH_DATABASE_URL or PORTCULLIS_TEST_DATABASE_URL (a fresh database is
 * created there and dropped afterwards); without one the PostgreSQL rows are skipped, saying so.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import autocannonModule from 'autocannon';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { ensureOwner } from '../../src/identity/bootstrap.ts';
import { serviceContext } from '../../src/core/context.ts';
import { createSite } from '../../src/identity/sites.ts';
import { createApiToken } from '../../src/identity/tokens.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import { buildApp } from '../../src/server/app.ts';
import { type OpenedStore, openStore } from '../../src/store/index.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';

interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  headers?: Record<string, string>;
  requests?: Array<{
    method?: string;
    path?: string;
    setupRequest?: (req: Record<string, unknown>) => Record<string, unknown>;
  }>;
}
const autocannon = autocannonModule as (options: CannonOptions) => Promise<CannonResult>;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    stores: { type: 'string', default: 'pglite,postgres' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);

interface Row {
  store: string;
  endpoint: string;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

async function openBenchStore(
  kind: string,
): Promise<{ store: OpenedStore; drop: () => Promise<void> } | null> {
  if (kind === 'pglite') return { store: await openStore({ memory: true }), drop: async () => {} };
  const base = process.env.PORTCULLIS_BENCH_DATABASE_URL ?? process.env.PORTCULLIS_TEST_DATABASE_URL;
  if (!base) {
    console.log('postgres: SKIPPED (set PORTCULLIS_BENCH_DATABASE_URL or PORTCULLIS_TEST_DATABASE_URL)');
    return null;
  }
  const name = `portcullis_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const store = await openStore({ url: url.toString(), poolSize: 10 });
  return {
    store,
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

async function benchStore(kind: string): Promise<Row[]> {
  const opened = await openBenchStore(kind);
  if (!opened) return [];
  const { store, drop } = opened;
  const keyring = Keyring.ephemeral();
  const boot = await ensureOwner({
    db: store.db,
    keyring,
    env: { PORTCULLIS_BOOTSTRAP_ADMIN: 'bench:bench-password-123' },
  });
  if (!boot.created) throw new Error('bench store was not empty');
  const ctx = serviceContext(store.db, keyring, { orgId: DEFAULT_ORG_ID });
  for (let i = 0; i < 20; i++) await createSite(ctx, { name: `site-${i}` });
  const { token } = await createApiToken(ctx, { userId: boot.userId, name: 'bench' });
  const app = await buildApp({
    store,
    keyring,
    config: loadConfig({}, { logLevel: 'silent' }),
    logger: false,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const auth = { authorization: `Bearer ${token}` };
  let counter = 0;
  const run = async (endpoint: string, options: Omit<CannonOptions, 'url' | 'connections' | 'duration'>) => {
    // Warm-up: JIT, connection pool and prepared statements, not counted.
    await autocannon({ url: base, connections, duration: 2, ...options });
    const r = await autocannon({ url: base, connections, duration, ...options });
    return {
      store: kind,
      endpoint,
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      failures: r.non2xx + r.errors,
    };
  };
  try {
    return [
      await run('GET /healthz (baseline, no auth)', { requests: [{ method: 'GET', path: '/healthz' }] }),
      await run('GET /api/v1/sites (bearer)', {
        headers: auth,
        requests: [{ method: 'GET', path: '/api/v1/sites' }],
      }),
      await run('POST /api/v1/groups (bearer)', {
        headers: { ...auth, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            path: '/api/v1/groups',
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ name: `g-${process.pid}-${counter++}` }),
            }),
          },
        ],
      }),
    ];
  } finally {
    await app.close();
    await store.close();
    await drop();
  }
}

const rows: Row[] = [];
for (const kind of (args.stores ?? '').split(',').filter(Boolean)) rows.push(...(await benchStore(kind)));

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `\nMachine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
console.log(`autocannon: ${connections} connections, ${duration} s per endpoint after a 2 s warm-up\n`);
console.log('| Store | Endpoint | req/s | p50 ms | p99 ms | vs baseline | non-2xx/errors |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const row of rows) {
  const baseline = rows.find((r) => r.store === row.store)?.rps ?? row.rps;
  console.log(
    `| ${row.store} | ${row.endpoint} | ${Math.round(row.rps)} | ${row.p50} | ${row.p99} | ${(row.rps / baseline).toFixed(2)} | ${row.failures} |`,
  );
}
