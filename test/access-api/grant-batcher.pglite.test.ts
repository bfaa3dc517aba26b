/**
 * @module Group commit of grants (ADR 0096) on a real PGlite store: concurrent callers share one transaction,
 * each gets its own rows in its own order, a request failing validation on the batch's knocs is refused
 * alone, a failing batch writes nothing and falls back to one transaction
 * per caller so only the faulty caller sees an error, and two sign-ins replacing the same (knoc, user) stay
 * in order. Transactions are counted on the real database handle; changes go on to the real access runtime.
 */
import { randomUUID } from 'node:crypto';
import { asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrantBatcher } from '../../src/access/service/grant-batcher.ts';
import {
  type GrantChange,
  type GrantKnoc,
  type NewGrant,
  requireGrantKnoc,
  requireLoadedKnoc,
} from '../../src/access/service/grants.ts';
import type { Actor } from '../../src/audit/record.ts';
import { NotFoundError } from '../../src/errors.ts';
import type { ServiceContext } from '../../src/core/context.ts';
import type { Db } from '../../src/store/db.ts';
import { events } from '../../src/store/schema/events.ts';
import { grants } from '../../src/store/schema/access.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { testContext } from '../helpers/store.ts';
import { type AccessHarness, startAccessHarness } from './harness.ts';

let h: AccessHarness;
let knoc: GrantKnoc;
let ctx: ServiceContext;
let addressCounter = 0;
const nextAddress = () => `192.0.2.${++addressCounter}`;

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  const siteId = await h.site();
  const gatewayId = await h.gateway(siteId);
  ctx = testContext(h.store, { keyring: h.keyring });
  knoc = await requireGrantKnoc(ctx, (await h.knoc({ gateway_id: gatewayId, site_id: siteId })).id);
});
afterAll(async () => {
  await h?.close();
});

/** The store's own handle, counting the transactions opened on it. */
function countingDb(db: Db): { db: Db; transactions: () => number } {
  let count = 0;
  const counted = new Proxy(db, {
    get(target, property) {
      if (property === 'transaction') {
        return (...args: Parameters<Db['transaction']>) => {
          count++;
          return target.transaction(...args);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: counted, transactions: () => count };
}

function setUp() {
  const { db, transactions } = countingDb(h.store.db);
  const changes: GrantChange[] = [];
  const batcher = new GrantBatcher(db, {
    async grantsChanged(change) {
      changes.push(change);
      await h.app.access.grantsChanged(change);
    },
  });
  return { batcher, transactions, changes };
}

const caller = (name: string): ServiceContext => {
  const actor: Actor = { type: 'user', id: null, name, sourceIp: null, requestId: `req-${name}` };
  return { ...ctx, actor };
};

const spec = (ip: string, overrides: Partial<NewGrant> = {}): NewGrant => ({
  knoc,
  userId: null,
  ip,
  expiresAt: new Date(Date.now() + 3_600_000),
  method: 'admin',
  reason: 'batch test',
  replacePrevious: false,
  ...overrides,
});

async function rowsFor(ips: string[]) {
  const created = await h.store.db.select().from(grants).where(inArray(grants.ip, ips));
  const ids = created.map((row) => row.id);
  const audits =
    ids.length === 0
      ? []
      : await h.store.db
          .select()
          .from(auditLog)
          .where(inArray(auditLog.targetId, ids))
          .orderBy(asc(auditLog.id));
  const outbox =
    ids.length === 0 ? [] : await h.store.db.select().from(events).where(inArray(events.grantId, ids));
  return { created, audits, outbox };
}

describe('GrantBatcher', () => {
  it('writes concurrent callers in one transaction, each getting its own rows in its own order', async () => {
    const { batcher, transactions, changes } = setUp();
    const callers = Array.from({ length: 20 }, (_, i) => ({
      ctx: caller(`c${i}`),
      ips: i % 5 === 0 ? [nextAddress(), nextAddress()] : [nextAddress()],
    }));
    const results = await Promise.all(
      callers.map(({ ctx: c, ips }) => batcher.create(c, ips.map((ip) => spec(ip)))),
    );
    expect(transactions()).toBe(1);
    expect(changes).toHaveLength(1);
    results.forEach((rows, i) => {
      expect(rows.map((row) => row.ip)).toEqual(callers[i]?.ips);
    });
    const allIps = callers.flatMap((c) => c.ips);
    const { audits, outbox } = await rowsFor(allIps);
    // Audit entries follow the submissions' order and carry each caller as the actor.
    const byId = new Map(results.flat().map((row) => [row.id, row.ip]));
    expect(audits.map((a) => byId.get(a.targetId as string))).toEqual(allIps);
    expect(audits.map((a) => a.actorName)).toEqual(callers.flatMap((c) => c.ips.map(() => c.ctx.actor.name)));
    expect(outbox.filter((e) => e.type === 'grant.created')).toHaveLength(allIps.length);
  });

  it('gathers the callers arriving while a transaction runs into the next one', async () => {
    const { batcher, transactions } = setUp();
    const first = batcher.create(caller('early'), [spec(nextAddress())]);
    while (transactions() === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const later = Array.from({ length: 10 }, (_, i) => batcher.create(caller(`late${i}`), [spec(nextAddress())]));
    await Promise.all([first, ...later]);
    expect(transactions()).toBe(2);
  });

  it('writes nothing of a failing batch and gives the error only to the caller that caused it', async () => {
    const { batcher, transactions } = setUp();
    const good = [nextAddress(), nextAddress(), nextAddress()];
    const bad = nextAddress();
    // A knoc that does not exist: passes the batcher, fails the foreign key inside the transaction.
    const ghost: GrantKnoc = { ...knoc, id: randomUUID() };
    const outcomes = await Promise.allSettled([
      batcher.create(caller('g0'), [spec(good[0] as string)]),
      batcher.create(caller('bad'), [spec(bad, { knoc: ghost })]),
      batcher.create(caller('g1'), [spec(good[1] as string)]),
      batcher.create(caller('g2'), [spec(good[2] as string)]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    // The failed batch, then one transaction per caller.
    expect(transactions()).toBe(1 + 4);
    const written = await rowsFor([...good, bad]);
    expect(written.created.map((row) => row.ip).sort()).toEqual([...good].sort());
    expect(written.audits).toHaveLength(good.length);
    expect(written.outbox).toHaveLength(good.length);
  });

  it('reads the knocs of a batch once and refuses a request whose knoc is missing alone', async () => {
    const { batcher, transactions } = setUp();
    const ips = [nextAddress(), nextAddress(), nextAddress()];
    const onKnoc = (knocId: string, ip: string) =>
      batcher.submit(caller(ip), {
        knocIds: [knocId],
        build: (knocs) => [spec(ip, { knoc: requireLoadedKnoc(ctx, knocs, knocId) })],
      });
    const outcomes = await Promise.allSettled([
      onKnoc(knoc.id, ips[0] as string),
      onKnoc(randomUUID(), ips[1] as string),
      onKnoc(knoc.id, ips[2] as string),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
    expect(transactions()).toBe(1);
    expect((await rowsFor(ips)).created.map((row) => row.ip).sort()).toEqual([ips[0], ips[2]].sort());
  });

  it('keeps two sign-ins replacing the same (knoc, user) in separate transactions, the later one winning', async () => {
    const { batcher, transactions } = setUp();
    const user = await h.makeUser(`replacer-${randomUUID().slice(0, 8)}`);
    const signIn = (ip: string) =>
      spec(ip, { userId: user.id, method: 'login', reason: null, replacePrevious: true });
    const [a, b] = await Promise.all([
      batcher.create(caller('first'), [signIn(nextAddress())]),
      batcher.create(caller('second'), [signIn(nextAddress())]),
    ]);
    expect(transactions()).toBe(2);
    const rows = await h.store.db.select().from(grants).where(eq(grants.userId, user.id));
    const state = new Map(rows.map((row) => [row.id, row.endReason]));
    expect(state.get(a?.[0]?.id as string)).toBe('replaced');
    expect(state.get(b?.[0]?.id as string)).toBeNull();
  });
});
