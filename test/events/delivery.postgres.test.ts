/**
 * @module Webhook delivery on PostgreSQL with two dispatchers on one database (two nodes): each event reaches
 * the receiver exactly once, signed, whichever node fans it out and delivers it (`FOR UPDATE SKIP LOCKED`
 * claims and delivery leases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, storeEvents } from '../../src/events/bus.ts';
import { WebhookDispatcher } from '../../src/events/delivery.ts';
import { createWebhook } from '../../src/events/webhooks.ts';
import { createSite } from '../../src/identity/sites.ts';
import { parseHostAllowList } from '../../src/net/ssrf.ts';
import { Keyring } from '../../src/secrets/keyring.ts';
import type { OpenedStore } from '../../src/store/open.ts';
import { DEFAULT_ORG_ID } from '../../src/store/schema/tenancy.ts';
import { freshPostgres, storeKinds, testContext } from '../helpers/store.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const pg = storeKinds().find((k) => k.kind === 'postgres');
const suite = pg?.available ? describe : describe.skip;

suite(`webhook delivery across two nodes (postgres${pg?.available ? '' : ` — ${pg?.skipReason}`})`, () => {
  let store: OpenedStore;
  let receiver: Receiver;
  const keyring = Keyring.ephemeral();
  const silent = { error() {}, warn() {}, info() {}, debug() {}, child() { return silent; } } as never;
  const nodes: WebhookDispatcher[] = [];
  const buses = [new EventBus(), new EventBus()];

  beforeAll(async () => {
    store = await freshPostgres();
    receiver = await startReceiver();
    const allowHosts = parseHostAllowList('127.0.0.1');
    for (const bus of buses) {
      const node = new WebhookDispatcher(store.db, keyring, silent, {
        allowHosts,
        timeoutMs: 3_000,
        backoffMs: [50],
        pollIntervalMs: 30,
        concurrency: 3,
      });
      node.start(bus);
      nodes.push(node);
    }
  });
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await receiver?.close();
    await store?.close();
  });

  it('delivers every event once although both nodes race for it', async () => {
    const ctx = testContext(store, { keyring });
    const site = await createSite(ctx, { name: 'pg-hooks' });
    const { secret } = await createWebhook(
      ctx,
      { can: () => true },
      { name: 'pg-hook', url: receiver.url },
      { allowHosts: parseHostAllowList('127.0.0.1') },
    );
    receiver.secret = secret;
    const list = Array.from({ length: 30 }, (_, i) => ({
      type: 'firewall.event.gateway_online' as const,
      orgId: DEFAULT_ORG_ID,
      siteId: site.id,
      payload: { n: i },
    }));
    const stored = await storeEvents(store.db, list);
    for (const bus of buses) bus.emit(stored);
    await receiver.waitFor(30, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    for (const node of nodes) await node.idle();
    const ids = receiver.received.map((r) => r.json.id as number);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
  });
});
