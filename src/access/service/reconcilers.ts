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
 */
import { and, eq, gt, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { VendorDescriptor } from '../../adapters/registry.ts';
import { findVendor } from '../../adapters/vendors.ts';
import { record, SYSTEM_ACTOR } from '../../audit/record.ts';
import type { Store } from '../../store/db.ts';
import { gateways, grants, knocs } from '../../store/schema/access.ts';
import { computeDesiredSet, type DesiredEntry } from '../desired-set.ts';
import { ReconcilerPool } from '../pool.ts';
import {
  AliasReconciler,
  type BackoffPolicy,
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
  vendor: VendorDescriptor;
  gatewayId: string;
  aliasName: string;
  knocIds: string[];
  createIfMissing: boolean;
  killStates: boolean;
}

export class AccessReconcilers {
  readonly pool: ReconcilerPool;
  private readonly keys = new Map<string, KeyInfo>();
  private readonly failing = new Set<string>();
  private persisting: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly adapters: GatewayAdapters,
    private readonly events: AccessEventBus,
    private readonly log: FastifyBaseLogger,
    private readonly settings: ReconcilerSettings,
  ) {
    this.pool = new ReconcilerPool((key) => this.createReconciler(key));
  }

  get size(): number {
    return this.keys.size;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** The live state of a key's reconciler, or undefined when it has none. */
  status(key: string): ReconcilerStatus | undefined {
    return this.keys.has(key) ? this.pool.status(key) : undefined;
  }

  /** Pokes the reconcilers of one gateway (its connection changed). */
  pokeGateway(gatewayId: string): void {
    for (const [key, info] of this.keys) if (info.gatewayId === gatewayId) this.pool.poke(key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pool.stop();
    await this.persisting;
  }

  /** Resolves once no run is queued or in flight and their outcomes are stored. */
  async settled(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      const before = this.persisting;
      await Promise.all([...this.keys.keys()].map((key) => this.pool.get(key).idle()));
      await before;
      if (before === this.persisting) return;
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
      // Drain: one last run with an empty desired set takes our entries off the alias before it is dropped.
      info.knocIds = [];
      if (!this.stopped) await this.pool.get(key).reconcileNow();
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
      vendor,
      gatewayId,
      aliasName,
      knocIds: rows.map((row) => row.id),
      createIfMissing: rows.some((row) => row.createAlias),
      killStates: rows.some((row) => row.kill),
    });
    if (!known && !this.stopped) this.pool.get(key);
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
