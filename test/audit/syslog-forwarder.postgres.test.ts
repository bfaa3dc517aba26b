/**
 * @module Two syslog forwarders on one PostgreSQL (ADR 0237), each with its own pool and cluster node, against one
 * real UDP collector: every audit row arrives once, from the lease holder only; when the holder's database
 * connection dies (a crashed node: no release, no renewal) the other takes over within one lease and continues
 * from the stored cursor without a gap. Own database; skipped, saying why, without PostgreSQL.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAll, SYSTEM_ACTOR } from '../../src/audit/record.ts';
import { AUDIT_SYSLOG_LEASE, AuditSyslogForwarder } from '../../src/audit/syslog-forwarder.ts';
import { SyslogSender } from '../../src/audit/syslog.ts';
import { ClusterNode } from '../../src/cluster/node.ts';
import { type OpenedStore, openStore } from '../../src/store/open.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { createTestDatabase, storeKinds } from '../helpers/store.ts';
import { UdpCollector } from './syslog-collector.ts';

const postgres = storeKinds().find((k) => k.kind === 'postgres');
const LEASE_MS = 1_500;

interface Forwarding {
  name: string;
  store: OpenedStore;
  node: ClusterNode;
  forwarder: AuditSyslogForwarder;
}

describe.skipIf(!postgres?.available)(
  `two syslog forwarders on one PostgreSQL${postgres?.skipReason ? ` — ${postgres.skipReason}` : ''}`,
  () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let collector: UdpCollector;
    const running: Forwarding[] = [];

    async function startForwarding(name: string): Promise<Forwarding> {
      const store = await openStore({ url: database.url, poolSize: 2 });
      const node = new ClusterNode(store, LEASE_MS, () => undefined);
      await node.start();
      const forwarder = new AuditSyslogForwarder(
        store.db,
        new SyslogSender({ protocol: 'udp', host: '127.0.0.1', port: collector.port }),
        { hostname: name, pollMs: 50, onError: () => undefined },
      );
      await forwarder.start(node);
      const forwarding = { name, store, node, forwarder };
      running.push(forwarding);
      return forwarding;
    }

    async function recordRows(store: OpenedStore, action: string, count: number): Promise<number[]> {
      await recordAll(
        store.db,
        Array.from({ length: count }, () => ({ orgId: DEFAULT_ORG_ID, actor: SYSTEM_ACTOR, action })),
      );
      const rows = await store.db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.action, action));
      return rows.map((row) => row.id);
    }

    beforeAll(async () => {
      database = await createTestDatabase();
      collector = await UdpCollector.start();
    });

    afterAll(async () => {
      for (const f of running) {
        await f.forwarder.stop().catch(() => undefined);
        await f.node.stop().catch(() => undefined);
        await f.store.close().catch(() => undefined);
      }
      await collector.close();
      await database?.drop();
    });

    it('sends every row once from the holder; a crashed holder is replaced within one lease, with no gap', async () => {
      const a = await startForwarding('node-a');
      const b = await startForwarding('node-b');
      const before = await recordRows(a.store, 'test.before', 30);
      await collector.waitForIds(before);
      const holder = [a, b].find((f) => f.node.holds(AUDIT_SYSLOG_LEASE));
      const other = [a, b].find((f) => f !== holder);
      if (!holder || !other) throw new Error('no single holder of the audit-syslog lease');
      expect(other.node.holds(AUDIT_SYSLOG_LEASE)).toBe(false);
      expect([holder.forwarder.forwarding, other.forwarder.forwarding]).toEqual([true, false]);

      // Rows keep coming (written through the survivor's pool) while the holder's connections die mid-stream.
      const writing = (async () => {
        const ids: number[] = [];
        for (let i = 0; i < 20; i++) {
          ids.push(...(await recordRows(other.store, `test.during_${i}`, 3)));
          await new Promise((r) => setTimeout(r, 50));
        }
        return ids;
      })();
      await new Promise((r) => setTimeout(r, 200));
      const crashedAt = Date.now();
      await holder.store.close();
      while (!other.node.holds(AUDIT_SYSLOG_LEASE) && Date.now() - crashedAt < 4 * LEASE_MS) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // Within one lease (plus a poll and a heartbeat of slack on a busy machine).
      expect(Date.now() - crashedAt).toBeLessThan(LEASE_MS + 1_000);
      const during = await writing;
      await collector.waitForIds(during);

      const after = await recordRows(other.store, 'test.after', 10);
      await collector.waitForIds(after);
      await new Promise((r) => setTimeout(r, 300));

      const counts = collector.counts();
      const all = [...before, ...during, ...after];
      // No gap: every row arrived. Duplicates only for rows the holder sent in the pass it could not store.
      const repeated = all.filter((id) => (counts.get(id) ?? 0) > 1);
      expect(all.filter((id) => !counts.has(id))).toEqual([]);
      for (const id of [...before, ...after]) expect(counts.get(id), `row ${id}`).toBe(1);
      expect(repeated.length).toBeLessThanOrEqual(500);
      for (const r of collector.received.filter((x) => before.includes(x.auditId))) expect(r.hostname).toBe(holder.name);
      for (const r of collector.received.filter((x) => after.includes(x.auditId))) expect(r.hostname).toBe(other.name);
    });
  },
);
