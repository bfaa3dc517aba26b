/**
 * @module Webhook delivery (docs/events.md, ADR 0121). The bus only wakes the dispatcher; all work runs
 * asynchronously from the `events` outbox, so nothing a receiver does can block the bus or the change that
 * emitted the event:
 *
 * 1. **Fan-out**: undelivered outbox events (claimed with `FOR UPDATE SKIP LOCKED`, so several nodes share the
 *    work) become one `webhook_deliveries` row per matching enabled webhook (type, site, created after the
 *    webhook), and the event is marked `delivered_at`.
 * 2. **Delivery**: due rows are leased (their `next_attempt_at` pushed past the attempt's timeout, so another
 *    node does not pick them up meanwhile) and POSTed, at most `concurrency` at a time, each bounded by
 *    `timeoutMs` (connect, headers and body together). No redirects are followed (a 3xx is a failure); the SSRF guard runs again.
 * 3. **Outcome**: 2xx → `succeeded` and the webhook's failure count resets; otherwise the row is retried after
 *    `backoffMs[attempt]` until `maxAttempts`, then `failed`. After `disableAfter` consecutive failed attempts
 *    the webhook is disabled (its pending rows fail with `webhook_disabled`) until someone enables it again.
 *
 * Signature: `X-Portcullis-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the Unix time
 * in `X-Portcullis-Timestamp`; receivers recompute it and reject stale timestamps (replays).
 */
import { createHmac } from 'node:crypto';
import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { Agent, request } from 'undici';
import { checkGatewayHost, EMPTY_ALLOW_LIST, guardedLookup, type HostAllowList } from '../net/ssrf.ts';
import type { Keyring } from '../secrets/keyring.ts';
import { aadForColumn } from '../secrets/registry.ts';
import type { Db } from '../store/db.ts';
import { events, webhookDeliveries, webhooks } from '../store/schema/events.ts';
import type { EventBus } from './bus.ts';
import { replayEvents } from './replay.ts';
import { eventBody } from './types.ts';
import { SECRET_COLUMN } from './webhooks.ts';

interface DeliveryOptions {
  /** Whole attempt (connect + headers + body). */
  timeoutMs: number;
  /** Delay before attempt n+1 after attempt n failed (last entry repeats). */
  backoffMs: readonly number[];
  maxAttempts: number;
  /** Consecutive failed attempts (any event) after which the webhook is disabled. */
  disableAfter: number;
  /** Deliveries in flight at once (per node). */
  concurrency: number;
  /** How often retries due later are looked for even without new events. */
  pollIntervalMs: number;
  /** `PORTCULLIS_ALLOW_WEBHOOK_HOSTS`: hosts the SSRF guard lets through (lab and tests). */
  allowHosts: HostAllowList;
}

const DEFAULT_DELIVERY: DeliveryOptions = {
  timeoutMs: 5_000,
  backoffMs: [10_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000],
  maxAttempts: 8,
  disableAfter: 20,
  concurrency: 8,
  pollIntervalMs: 5_000,
  allowHosts: EMPTY_ALLOW_LIST,
};

const SIGNATURE_HEADER = 'x-portcullis-signature';
const TIMESTAMP_HEADER = 'x-portcullis-timestamp';

/** `v1=<hex>`: HMAC-SHA256 over `<timestamp>.<body>` with the webhook's secret. */
function signPayload(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

type Delivery = typeof webhookDeliveries.$inferSelect;

export class WebhookDispatcher {
  private options: DeliveryOptions;
  private agent: Agent;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private offBus: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly log: FastifyBaseLogger,
    options: Partial<DeliveryOptions> = {},
  ) {
    this.options = { ...DEFAULT_DELIVERY, ...options };
    this.agent = this.makeAgent();
  }

  private makeAgent(): Agent {
    const { timeoutMs, allowHosts } = this.options;
    return new Agent({
      connect: { timeout: timeoutMs, lookup: guardedLookup(allowHosts) },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** Hosts the SSRF guard lets through for webhook URLs (checked on save and on every attempt). */
  get allowHosts(): HostAllowList {
    return this.options.allowHosts;
  }

  /** Changes delivery options (tests, and a settings reload); takes effect from the next attempt. */
  tune(options: Partial<DeliveryOptions>): void {
    const old = this.agent;
    this.options = { ...this.options, ...options };
    this.agent = this.makeAgent();
    void old.close().catch(() => undefined);
  }

  start(bus: EventBus): void {
    this.stopped = false;
    this.offBus = bus.on(() => this.kick());
    const tick = () => {
      if (this.stopped) return;
      this.kick();
      this.timer = setTimeout(tick, this.options.pollIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.offBus?.();
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close().catch(() => undefined);
  }

  /** Schedules a pass; never waits for one (the bus calls this synchronously). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.fanOut();
          await this.deliverDue();
        } catch (err) {
          this.log.error({ err }, 'webhook dispatch pass failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
  }

  /** Waits until no pass is running and nothing is in flight (tests). */
  async idle(): Promise<void> {
    while (this.running || this.inFlight.size > 0) {
      await this.running;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private async fanOut(): Promise<void> {
    for (;;) {
      const done = await this.db.transaction(async (tx) => {
        const batch = await tx
          .select()
          .from(events)
          .where(isNull(events.deliveredAt))
          .orderBy(asc(events.id))
          .limit(200)
          .for('update', { skipLocked: true });
        if (batch.length === 0) return true;
        const orgIds = [...new Set(batch.map((e) => e.orgId))];
        const hooks = await tx
          .select({
            id: webhooks.id,
            orgId: webhooks.orgId,
            eventTypes: webhooks.eventTypes,
            siteIds: webhooks.siteIds,
            createdAt: webhooks.createdAt,
          })
          .from(webhooks)
          .where(and(inArray(webhooks.orgId, orgIds), eq(webhooks.enabled, true), isNull(webhooks.deletedAt)));
        const rows = batch.flatMap((event) =>
          hooks
            .filter(
              (hook) =>
                hook.orgId === event.orgId &&
                hook.createdAt.getTime() <= event.createdAt.getTime() &&
                (hook.eventTypes.length === 0 || hook.eventTypes.includes(event.type)) &&
                (hook.siteIds === null || (event.siteId !== null && hook.siteIds.includes(event.siteId))),
            )
            .map((hook) => ({ orgId: event.orgId, webhookId: hook.id, eventId: event.id, eventType: event.type })),
        );
        if (rows.length > 0) await tx.insert(webhookDeliveries).values(rows).onConflictDoNothing();
        await tx
          .update(events)
          .set({ deliveredAt: sql`now()` })
          .where(inArray(events.id, batch.map((e) => e.id)));
        return batch.length < 200;
      });
      if (done) return;
    }
  }

  private async deliverDue(): Promise<void> {
    for (;;) {
      const free = this.options.concurrency - this.inFlight.size;
      if (free <= 0 || this.stopped) {
        if (this.inFlight.size > 0) await Promise.race(this.inFlight);
        if (this.stopped) return;
        continue;
      }
      const leaseUntil = new Date(Date.now() + this.options.timeoutMs * 2 + 1_000);
      const claimed = await this.db.transaction(async (tx) => {
        const due = await tx
          .select({ id: webhookDeliveries.id })
          .from(webhookDeliveries)
          .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, new Date())))
          .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.id))
          .limit(free)
          .for('update', { skipLocked: true });
        if (due.length === 0) return [];
        return tx
          .update(webhookDeliveries)
          .set({ nextAttemptAt: leaseUntil })
          .where(inArray(webhookDeliveries.id, due.map((d) => d.id)))
          .returning();
      });
      // Nothing due: return without waiting for attempts in flight (a slow receiver must not hold up fan-out).
      if (claimed.length === 0) return;
      for (const delivery of claimed) {
        const job = this.attempt(delivery).catch((err: unknown) =>
          this.log.error({ err, delivery: delivery.id }, 'webhook delivery bookkeeping failed'),
        );
        this.inFlight.add(job);
        void job.finally(() => {
          this.inFlight.delete(job);
          // A finished attempt frees a slot and may have scheduled a retry: look again.
          this.kick();
        });
      }
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const [hook] = await this.db.select().from(webhooks).where(eq(webhooks.id, delivery.webhookId)).limit(1);
    if (!hook || !hook.enabled || hook.deletedAt !== null) {
      await this.db
        .update(webhookDeliveries)
        .set({ status: 'failed', error: hook?.deletedAt ? 'webhook_deleted' : 'webhook_disabled' })
        .where(eq(webhookDeliveries.id, delivery.id));
      return;
    }
    const [stored] = await replayEvents(this.db, delivery.orgId, delivery.eventId - 1, 1);
    if (!stored || stored.id !== delivery.eventId) return;
    const body = JSON.stringify({ ...eventBody(stored, 'webhook'), delivery_id: delivery.id, webhook_id: hook.id });
    const started = Date.now();
    const outcome = await this.post(hook.url, hook.id, hook.secretEnc, body, stored.type, delivery.id);
    const durationMs = Date.now() - started;
    const attempts = delivery.attempts + 1;
    if (outcome.ok) {
      await this.db.transaction(async (tx) => {
        await tx
          .update(webhookDeliveries)
          .set({
            status: 'succeeded',
            attempts,
            lastAttemptAt: new Date(started),
            responseStatus: outcome.status,
            error: null,
            durationMs,
            deliveredAt: new Date(),
          })
          .where(eq(webhookDeliveries.id, delivery.id));
        await tx.update(webhooks).set({ consecutiveFailures: 0 }).where(eq(webhooks.id, hook.id));
      });
      return;
    }
    const { backoffMs, maxAttempts, disableAfter } = this.options;
    const giveUp = attempts >= maxAttempts;
    const delay = backoffMs[Math.min(attempts - 1, backoffMs.length - 1)] ?? 60_000;
    await this.db.transaction(async (tx) => {
      await tx
        .update(webhookDeliveries)
        .set({
          status: giveUp ? 'failed' : 'pending',
          attempts,
          lastAttemptAt: new Date(started),
          responseStatus: outcome.status,
          error: outcome.error,
          durationMs,
          nextAttemptAt: new Date(Date.now() + delay),
        })
        .where(eq(webhookDeliveries.id, delivery.id));
      const [counted] = await tx
        .update(webhooks)
        .set({ consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1` })
        .where(and(eq(webhooks.id, hook.id), eq(webhooks.enabled, true)))
        .returning({ failures: webhooks.consecutiveFailures });
      if (counted && counted.failures >= disableAfter) {
        const reason = `disabled after ${counted.failures} consecutive failed deliveries (last: ${outcome.error})`;
        await tx
          .update(webhooks)
          .set({ enabled: false, disabledAt: new Date(), disabledReason: reason })
          .where(eq(webhooks.id, hook.id));
        await tx
          .update(webhookDeliveries)
          .set({
            status: 'failed',
            error: sql`'webhook_disabled' || coalesce('; last: ' || ${webhookDeliveries.error}, '')`,
          })
          .where(and(eq(webhookDeliveries.webhookId, hook.id), eq(webhookDeliveries.status, 'pending')));
        this.log.warn({ webhook: hook.id }, reason);
      }
    });
  }

  private async post(
    url: string,
    webhookId: string,
    secretEnc: string,
    body: string,
    type: string,
    deliveryId: number,
  ): Promise<{ ok: boolean; status: number | null; error: string | null }> {
    try {
      await checkGatewayHost(url, { allowHosts: this.options.allowHosts });
      const secret = this.keyring.open(secretEnc, aadForColumn(SECRET_COLUMN, webhookId));
      const timestamp = Math.floor(Date.now() / 1000);
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Portcullis-Webhooks/1',
          'x-portcullis-event': type,
          'x-portcullis-delivery': String(deliveryId),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signPayload(secret, timestamp, body),
        },
        body,
      });
      // The body is not used, but it must be consumed (bounded by the same timeout) to free the connection.
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return { ok, status: res.statusCode, error: ok ? null : `http_${res.statusCode}` };
    } catch (err) {
      return { ok: false, status: null, error: describe(err) };
    }
  }
}

/** A short, secret-free reason for a failed attempt. */
function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return 'timeout';
  }
  if (e.code === 'ESSRFBLOCKED' || e.name === 'ValidationError') return 'blocked: address not allowed';
  if (e.code) return `connect: ${e.code}`;
  return 'request failed';
}
