/**
 * @module The syslog forwarder's stored cursor on PGlite (ADR 0237): a forwarder started again on the same store
 * sends what was recorded while it was down and nothing it had already sent; the first start on a store does not
 * replay history. Real UDP collector on 127.0.0.1.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordAll, SYSTEM_ACTOR } from '../../src/audit/record.ts';
import { AuditSyslogForwarder } from '../../src/audit/syslog-forwarder.ts';
import { SyslogSender } from '../../src/audit/syslog.ts';
import { ClusterNode } from '../../src/cluster/node.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { freshPglite } from '../helpers/store.ts';
import { UdpCollector } from './syslog-collector.ts';

let store: OpenedStore;
let collector: UdpCollector;

beforeAll(async () => {
  store = await freshPglite();
  collector = await UdpCollector.start();
});

afterAll(async () => {
  await collector.close();
  await store.close();
});

/** Records `count` rows with `action`; returns their ids. */
async function recordRows(action: string, count: number): Promise<number[]> {
  await recordAll(
    store.db,
    Array.from({ length: count }, () => ({ orgId: DEFAULT_ORG_ID, actor: SYSTEM_ACTOR, action })),
  );
  const rows = await store.db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.action, action));
  return rows.map((row) => row.id);
}

async function startForwarder(name: string): Promise<{ stop: () => Promise<void> }> {
  const node = new ClusterNode(store, 3_000);
  await node.start();
  const forwarder = new AuditSyslogForwarder(
    store.db,
    new SyslogSender({ protocol: 'udp', host: '127.0.0.1', port: collector.port }),
    { hostname: name, pollMs: 50 },
  );
  await forwarder.start(node);
  return {
    async stop() {
      await forwarder.stop();
      await node.stop();
    },
  };
}

it('continues after a restart from the stored cursor: no history at first start, no resend, nothing lost', async () => {
  const history = await recordRows('test.history', 3);
  const first = await startForwarder('first');
  const sent = await recordRows('test.before_restart', 4);
  await collector.waitForIds(sent);
  await first.stop();

  const whileDown = await recordRows('test.while_down', 5);
  const second = await startForwarder('second');
  try {
    await collector.waitForIds(whileDown);
    // A few more polls, so a resend would have arrived.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await second.stop();
  }
  const counts = collector.counts();
  for (const id of history) expect(counts.has(id), `history row ${id} replayed`).toBe(false);
  for (const id of [...sent, ...whileDown]) expect(counts.get(id), `row ${id}`).toBe(1);
  expect(collector.received.filter((r) => whileDown.includes(r.auditId)).every((r) => r.hostname === 'second')).toBe(true);
});
