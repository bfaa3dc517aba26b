/**
 * @module The access runtime's reconciler pool over the store: one reconciler per (gateway, alias) of the
 * active knocs (docs/adr/0094-access-runtime.md).
 *
 * - Its desired set is read from the store at every run, after marking the grants whose `expires_at` has
 *   passed as ended (`expired`, at their own instant) and revoking those of users disabled or deleted since.
 * - The vendor's descriptor supplies the codes the reconciler raises and gates what it may do: it creates a
 *   missing list only with `alias.create`, and kills states only with `kill_states`.
 * - Each run's outcome is persisted: grants `live` / `removed` / `failed`, the knoc's last sync / apply,
 *   device count and error `{code, message, since}`; a first failure and a recovery become events and audit
 *   entries; failures are logged with `(error <vendor code>)`.
 * - Several nodes on one store (docs/scale-out.md, ADR 0220): every node knows every key, but a key's
 *   reconciler runs only on the node holding its lease (`access:<gateway>:<alias>`). A poke on another node
 *   goes to the owner over the store's channel (ADR 0221); a free key is taken by the node that pokes it. At
 *   every heartbeat a node drops the keys it lost, takes free ones up to its fair share and gives back idle
 *   ones above it. The addresses still owed a state kill are stored (`access_pending_kills`, ADR 0222).
 */
import { and, eq, gt, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { VendorDescriptor } from '../../adapters/registry.ts';
import { findVendor } from '../../adapters/vendors.ts';
import { record, SYSTEM_ACTOR } from '../../audit/record.ts';
import type { ClusterNode } from '../../cluster/node.ts';
import type { Store } from '../../store/db.ts';
import { gateways, grants, knocs } from '../../store/schema/access.ts';
import { accessPendingKills } from '../../store/schema/cluster.ts';
import { computeDesiredSet, type DesiredEntry } from '../desired-set.ts';
import { ReconcilerPool, reconcilerKey } from '../pool.ts';
import {
  AliasReconciler,
  type BackoffPolicy,
  type KillLedger,
  type ReconcileOutcome,
  type ReconcilerStatus,
} from '../reconciler.ts';
import { type AccessEvent, type AccessEventBus, storeEvents } from './events.ts';
import type { GatewayAdapters } from './gateway-adapters.ts';
import { expireDue, revokeForInactiveUsers } from './grants.ts';

interface ReconcilerSettings {
  /** Full reconcile interval; null disables the periodic run. */
  reconcileIntervalMs: number | null;
  /** Retry backoff of failed runs (tests shorten it). */
  backoff?: Partial<BackoffPolicy>;
}

/** The active knocs sharing one (gateway, alias). */
interface KeyInfo {
  orgId: string;
  siteId: string;
  vendor: VendorDescriptor;
  gatewayId: string;
  aliasName: string;
  knocIds: string[];
  createIfMissing: boolean;
  killStates: boolean;
}

/** The lease of one key's reconciler (gateway ids are UUIDs, so the first `:` ends them). */
export function leaseName(key: string): string {
  const [gatewayId, aliasName] = key.split('\u0000') as [string, string];
  return `access:${gatewayId}:${aliasName}`;
}

function keyOfLease(name: string): string | null {
  const match = /^access:([0-9a-f-]{36}):(.+)$/s.exec(name);
  return match ? reconcilerKey(match[1] as string, match[2] as string) : null;
}

export class AccessReconcilers {
  readonly pool: ReconcilerPool;
  private readonly keys = new Map<string, KeyInfo>();
  private readonly failing = new Set<string>();
  private persisting: Promise<void> = Promise.resolve();
  private balancing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly adapters: GatewayAdapters,
    private readonly events: AccessEventBus,
    private readonly log: FastifyBaseLogger,
    private readonly settings: ReconcilerSettings,
    private readonly node: ClusterNode,
    /** Sends pokes of keys another node owns to that node. */
    private readonly route: (keys: string[]) => Promise<void>,
  ) {
    this.pool = new ReconcilerPool((key) => this.createReconciler(key));
    this.pool.onExpired = (key) => this.poke(key);
    node.onTick(() => this.serially(() => this.rebalance()));
  }

  /** Keys with a running reconciler on this node. */
  get size(): number {
    return this.pool.keys().length;
  }

  /** Whether `key` belongs to an active knoc (on any node). */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Whether this node runs the reconciler of `key` now. */
  owns(key: string): boolean {
    return this.pool.has(key) && this.node.holds(leaseName(key));
  }

  /** The live state of a key's reconciler, or undefined when it has none here. */
  status(key: string): ReconcilerStatus | undefined {
    return this.owns(key) ? this.pool.status(key) : undefined;
  }

  /** Runs the key's reconciler: here when this node owns it or can take it, else on its owner. */
  poke(key: string): void {
    this.pokeAll([key]).catch((err: unknown) => this.log.error({ err }, 'routing a poke failed'));
  }

  async pokeAll(keys: Iterable<string>): Promise<void> {
    const remote: string[] = [];
    for (const key of keys) {
      if (!this.keys.has(key) || this.stopped) continue;
      if (this.owns(key)) this.pool.poke(key);
      else remote.push(key);
    }
    if (remote.length === 0) return;
    // A free key is taken here (its first run reads the poked grants); the others go to their owners.
    const taken = await this.take(remote);
    const elsewhere = remote.filter((key) => !taken.has(key));
    if (elsewhere.length > 0) await this.route(elsewhere);
  }

  /** A poke routed from another node: runs the keys this node owns. */
  pokeOwned(keys: readonly string[]): void {
    for (const key of keys) if (this.owns(key)) this.pool.poke(key);
  }

  /** Pokes the reconcilers of one gateway this node owns (its connection changed). */
  pokeGateway(gatewayId: string): void {
    for (const [key, info] of this.keys) if (info.gatewayId === gatewayId && this.owns(key)) this.pool.poke(key);
  }

  /** Pokes every reconciler this node owns (after a lost channel connection: pokes may have been missed). */
  pokeEveryOwned(): void {
    for (const key of this.pool.keys()) if (this.owns(key)) this.pool.poke(key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pool.stop();
    await this.persisting;
  }

  /** Resolves once no run is queued or in flight here and their outcomes are stored. */
  async settled(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      const before = this.persisting;
      await Promise.all(this.pool.keys().map((key) => this.pool.idle(key)));
      await before;
      if (before === this.persisting) return;
    }
  }

  /**
   * Tries to take other nodes' leases that expire before the next heartbeat at their expiry instant, so the
   * aliases of a dead node move one lease after its last renewal rather than one heartbeat later.
   */
  private watchExpiries(leases: readonly { name: string; remaining_ms: number }[]): void {
    const tickMs = Math.floor(this.node.leaseMs / 3);
    const soon = leases.filter((lease) => lease.remaining_ms < tickMs);
    if (soon.length === 0) return;
    const at = Math.max(...soon.map((lease) => lease.remaining_ms)) + 25;
    const keys = soon.map((lease) => keyOfLease(lease.name)).filter((key): key is string => key !== null);
    const timer = setTimeout(() => {
      this.serially(() => this.takeExpired(keys)).catch((err: unknown) =>
        this.log.warn({ err }, 'taking over expired leases failed'),
      );
    }, at);
    timer.unref();
  }

  /**
   * At the expiry instant of another node's leases: takes them up to this node's fair share only. Every survivor
   * has such a timer; taking all would leave the first one to fire above its share, and its next heartbeat would
   * give keys back, moving an alias twice (ADR 0287).
   */
  private async takeExpired(keys: readonly string[]): Promise<void> {
    const { fair } = await this.fairShare();
    await this.takeUpTo(shuffle([...keys].filter((key) => !this.pool.has(key))), fair - this.pool.keys().length);
  }

  /** Takes at most `limit` of `candidates`, trying the next ones when another node won some. */
  private async takeUpTo(candidates: readonly string[], limit: number): Promise<void> {
    let taken = 0;
    let next = 0;
    while (taken < limit && next < candidates.length) {
      const batch = candidates.slice(next, next + limit - taken);
      next += batch.length;
      taken += (await this.take(batch)).size;
    }
  }

  /** Live nodes (a heartbeat younger than two thirds of a lease) and the keys each should run. */
  private async fairShare(): Promise<{ alive: number; fair: number }> {
    const [counts] = await this.store.query<{ alive: number }>(
      `select count(*)::int as alive from cluster_nodes
       where heartbeat_at > now() - $1::int * interval '1 millisecond'`,
      [Math.floor((this.node.leaseMs * 2) / 3)],
    );
    const alive = Math.max(1, counts?.alive ?? 1);
    return { alive, fair: Math.ceil(this.keys.size / alive) };
  }

  /** Runs balancing steps (heartbeat, expiry timers) one at a time, so two never both count the same free share. */
  private serially(step: () => Promise<void>): Promise<void> {
    const run = this.balancing.then(step);
    this.balancing = run.catch(() => {});
    return run;
  }

  /** Takes the leases of `keys` that are free and starts their reconcilers; returns the keys taken. */
  async take(keys: readonly string[]): Promise<Set<string>> {
    if (this.stopped) return new Set();
    const names = keys.filter((key) => this.keys.has(key)).map(leaseName);
    const got = await this.node.acquire(names);
    const taken = new Set<string>();
    for (const name of got) {
      const key = keyOfLease(name);
      if (key === null || !this.keys.has(key)) continue;
      taken.add(key);
      if (!this.pool.has(key)) {
        this.log.info({ lease: name, node_id: this.node.id }, 'took over an alias');
        this.pool.get(key);
      }
    }
    return taken;
  }

  /**
   * At every heartbeat: stops the reconcilers whose lease was lost, takes free keys up to a fair share of the
   * live nodes (at least one per tick, so keys of a dead node always move) and gives back idle keys above it.
   */
  private async rebalance(): Promise<void> {
    if (this.stopped) return;
    for (const key of this.pool.keys()) {
      if (!this.node.holds(leaseName(key))) {
        this.log.warn({ lease: leaseName(key), node_id: this.node.id }, 'lost the lease of an alias');
        await this.pool.remove(key);
      }
    }
    if (this.keys.size === 0) return;
    const { alive, fair } = await this.fairShare();
    const held = this.pool.keys();
    const busy = await this.store.query<{ name: string; remaining_ms: number }>(
      `select name, ceil(extract(epoch from (expires_at - now())) * 1000)::int as remaining_ms
       from cluster_leases where expires_at > now() and node_id <> $1 and name like 'access:%'`,
      [this.node.id],
    );
    const others = new Set(busy.map((row) => row.name));
    this.watchExpiries(busy);
    const free = shuffle([...this.keys.keys()].filter((key) => !this.pool.has(key) && !others.has(leaseName(key))));
    await this.takeUpTo(free, Math.max(1, fair - held.length));
    const surplus = this.pool.keys().length - fair;
    if (surplus > 0 && alive > 1) {
      const idle = this.pool.keys().filter((key) => !(this.pool.status(key)?.pending ?? true));
      for (const key of idle.slice(0, surplus)) {
        await this.pool.remove(key);
        await this.node.release([leaseName(key)]);
      }
    }
  }

  /** Re-reads the active knocs of a key; starts its reconciler when new, removes it when none is left. */
  async refresh(key: string): Promise<void> {
    const [gatewayId, aliasName] = key.split('\u0000') as [string, string];
    const rows = await this.store.db
      .select({
        id: knocs.id,
        orgId: knocs.orgId,
        createAlias: knocs.createAliasIfMissing,
        kill: knocs.killStatesOnRevoke,
        vendor: gateways.vendor,
        siteId: gateways.siteId,
      })
      .from(knocs)
      .innerJoin(gateways, eq(gateways.id, knocs.gatewayId))
      .where(
        and(
          eq(knocs.gatewayId, gatewayId),
          eq(knocs.aliasName, aliasName),
          eq(knocs.mode, 'active'),
          isNull(knocs.deletedAt),
          isNull(gateways.deletedAt),
        ),
      );
    if (rows.length === 0) {
      const info = this.keys.get(key);
      if (info === undefined) return;
      // Drain: one last run with an empty desired set takes our entries off the alias before it is dropped
      // (by the owner; when no node owns the key, the node that saw the change takes it for that run).
      info.knocIds = [];
      if (!this.stopped && (this.owns(key) || (await this.take([key])).has(key))) {
        await this.pool.get(key).reconcileNow();
        await this.node.release([leaseName(key)]);
      }
      this.keys.delete(key);
      await this.pool.remove(key);
      return;
    }
    const first = rows[0] as (typeof rows)[number];
    const vendor = findVendor(first.vendor);
    if (vendor === undefined) {
      this.log.error(
        { gateway_id: gatewayId, vendor: first.vendor },
        'gateway has an unknown vendor; not reconciled',
      );
      return;
    }
    const known = this.keys.has(key);
    this.keys.set(key, {
      orgId: first.orgId,
      siteId: first.siteId,
      vendor,
      gatewayId,
      aliasName,
      knocIds: rows.map((row) => row.id),
      createIfMissing: rows.some((row) => row.createAlias),
      killStates: rows.some((row) => row.kill),
    });
    if (!known && !this.stopped) await this.take([key]);
  }

  private createReconciler(key: string): AliasReconciler {
    const info = () => this.keys.get(key);
    const first = info() as KeyInfo;
    const vendor = () => info()?.vendor ?? first.vendor;
    return new AliasReconciler({
      aliasName: first.aliasName,
      target: this.adapters.target(first.gatewayId),
      desired: () => this.desired(key),
      createIfMissing: () => (info()?.createIfMissing ?? false) && vendor().capabilities['alias.create'],
      killStatesOnRevoke: () => (info()?.killStates ?? true) && vendor().capabilities.kill_states,
      nativeExpiry: () => vendor().capabilities.native_expiry,
      // Read at every run, so a gateway whose vendor changed reports in its new family.
      codes: {
        get aliasNotFound() {
          return vendor().errors.aliasNotFound;
        },
        get aliasUnusable() {
          return vendor().errors.aliasUnusable;
        },
        get verifyMismatch() {
          return vendor().errors.verifyMismatch;
        },
      },
      killLedger: this.killLedger(first),
      mayRun: () => this.node.holds(leaseName(key)),
      aliasDescription: 'Just-in-time access managed by Portcullis',
      periodicMs: this.settings.reconcileIntervalMs,
      ...(this.settings.backoff ? { backoff: this.settings.backoff } : {}),
      onOutcome: (outcome) => {
        this.persisting = this.persisting
          .then(() => this.recordOutcome(key, outcome))
          .catch((err: unknown) => this.log.error({ err }, 'storing a reconcile outcome failed'));
      },
    });
  }

  /** The stored addresses of one (gateway, alias) still owed a state kill (ADR 0222). */
  private killLedger(info: KeyInfo): KillLedger {
    const where = and(
      eq(accessPendingKills.gatewayId, info.gatewayId),
      eq(accessPendingKills.aliasName, info.aliasName),
    );
    const db = this.store.db;
    return {
      async load() {
        const rows = await db.select({ ip: accessPendingKills.ip }).from(accessPendingKills).where(where);
        return rows.map((row) => row.ip);
      },
      async add(ips) {
        await db
          .insert(accessPendingKills)
          .values(
            ips.map((ip) => ({
              orgId: info.orgId,
              siteId: info.siteId,
              gatewayId: info.gatewayId,
              aliasName: info.aliasName,
              ip,
            })),
          )
          .onConflictDoNothing();
      },
      async remove(ips) {
        await db.delete(accessPendingKills).where(and(where, inArray(accessPendingKills.ip, [...ips])));
      },
    };
  }

  /** Ends the key's expired grants, then reads the open ones: the desired set of this run. */
  private async desired(key: string): Promise<DesiredEntry[]> {
    const info = this.keys.get(key);
    if (info === undefined || info.knocIds.length === 0) return [];
    const expired = await expireDue(this.adapters.systemContext(info.orgId), info.knocIds);
    const revoked = await revokeForInactiveUsers(this.adapters.systemContext(info.orgId), info.knocIds);
    for (const grant of revoked.ended) this.pool.forgetGrant(grant.id);
    this.events.emit([...expired.events, ...revoked.events]);
    const now = Date.now();
    const rows = await this.store.db
      .select({ id: grants.id, ip: grants.ip, expiresAt: grants.expiresAt })
      .from(grants)
      .where(
        and(
          inArray(grants.knocId, info.knocIds),
          isNull(grants.endedAt),
          gt(grants.expiresAt, new Date(now)),
        ),
      );
    // The owner pokes itself at each grant's expiry, whichever node created the grant.
    for (const row of rows) this.pool.trackGrant(row.id, key, row.expiresAt.getTime());
    return computeDesiredSet(
      rows.map((row) => ({ id: row.id, ip: row.ip, expiresAt: row.expiresAt.getTime() })),
      now,
    );
  }

  private async recordOutcome(key: string, outcome: ReconcileOutcome): Promise<void> {
    const info = this.keys.get(key);
    if (info === undefined || info.knocIds.length === 0) return;
    const db = this.store.db;
    const at = new Date(outcome.at);
    const live = [...outcome.liveGrantIds];
    for (let i = 0; i < live.length; i += 5_000) {
      await db
        .update(grants)
        .set({ syncState: 'live', syncedAt: at })
        .where(and(inArray(grants.id, live.slice(i, i + 5_000)), sql`${grants.syncState} <> 'live'`));
    }
    if (outcome.synced) {
      await db
        .update(grants)
        .set({
          syncState: sql`case when ${grants.syncState} = 'live' then 'removed' else 'failed' end`,
          syncedAt: at,
        })
        .where(
          and(
            inArray(grants.knocId, info.knocIds),
            sql`${grants.endedAt} is not null`,
            inArray(grants.syncState, ['live', 'pending']),
            outcome.desiredIps.length > 0 ? notInArray(grants.ip, outcome.desiredIps) : undefined,
          ),
        );
    }
    await db
      .update(knocs)
      .set({
        ...(outcome.synced ? { lastSyncAt: at } : {}),
        ...(outcome.applied ? { lastApplyAt: at } : {}),
        ...(outcome.deviceCount !== null ? { deviceCount: outcome.deviceCount } : {}),
        syncErrorCode: outcome.error?.code ?? null,
        syncErrorMessage: outcome.error?.message ?? null,
        syncErrorSince: outcome.error ? new Date(outcome.error.since) : null,
      })
      .where(inArray(knocs.id, info.knocIds));

    const where = { gateway_id: info.gatewayId, alias: info.aliasName };
    if (!outcome.ok && outcome.error) {
      this.log.warn(
        { ...where, retry_in_ms: outcome.retryInMs, code: outcome.error.code },
        `reconcile of alias ${info.aliasName} failed: ${outcome.error.message} (error ${outcome.error.code})`,
      );
      if (!this.failing.has(key)) {
        this.failing.add(key);
        await this.syncEvent(info, 'sync.failed', {
          ...where,
          code: outcome.error.code,
          message: outcome.error.message,
        });
      }
    } else if (outcome.ok) {
      if (outcome.wrote || outcome.removedIps.length > 0) {
        this.log.info(
          {
            ...where,
            desired: outcome.desiredIps.length,
            removed: outcome.removedIps.length,
            killed: outcome.killed.length,
          },
          `alias ${info.aliasName} reconciled`,
        );
      }
      if (this.failing.delete(key) || outcome.recovered) await this.syncEvent(info, 'sync.recovered', where);
    }
  }

  private async syncEvent(
    info: KeyInfo,
    type: 'sync.failed' | 'sync.recovered',
    payload: Record<string, unknown>,
  ): Promise<void> {
    const list: AccessEvent[] = info.knocIds.map((knocId) => ({
      type,
      orgId: info.orgId,
      siteId: null,
      knocId,
      grantId: null,
      payload: { ...payload, knoc_id: knocId },
    }));
    await this.store.db.transaction(async (tx) => {
      for (const event of list) {
        await record(tx, {
          orgId: info.orgId,
          actor: SYSTEM_ACTOR,
          action: type === 'sync.failed' ? 'knoc.sync_failed' : 'knoc.sync_recovered',
          targetType: 'knoc',
          targetId: event.knocId,
          after: event.payload,
          outcome: type === 'sync.failed' ? 'failure' : 'success',
        });
      }
      await storeEvents(tx as unknown as Store['db'], list);
    });
    this.events.emit(list);
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
