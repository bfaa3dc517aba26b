/**
 * @module The access runtime: wires the reconciler pool (src/access/pool.ts) to the store
 * (docs/adr/0094-access-runtime.md).
 *
 * - One reconciler per (gateway, alias) of the active knocs; its desired set is read from the store at every
 *   run, after marking the grants whose `expires_at` has passed as ended (`expired`, at their own instant) and
 *   revoking those of users disabled or deleted since.
 * - At start: every active key gets its reconciler (full reconcile, then every `reconcileIntervalMs`), every
 *   open grant is tracked for expiry (one timer for the next instant; passive knocs have their own scheduler,
 *   which only ends the grants in the store).
 * - Each run's outcome is persisted: grants `live` / `removed` / `failed`, the knoc's last sync / apply,
 *   device count and error `{code, message, since}`; a first failure and a recovery become events and audit
 *   entries; failures are logged with `(error PFSnnn)`.
 * - Adapters are built from the gateway row on demand (SSRF guard re-checked) and rebuilt after a gateway
 *   changes. Their errors never carry the key (adapter contract).
 */

import { and, eq, gt, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { AdapterError, type AliasTarget, type FirewallAdapter } from '../../adapters/types.ts';
import { record, SYSTEM_ACTOR } from '../../audit/record.ts';
import { DomainError } from '../../errors.ts';
import { type AdapterTuning, buildAdapter } from '../../firewall/adapter.ts';
import { gatewayConnection } from '../../firewall/gateways.ts';
import { type ServiceContext, serviceContext } from '../../identity/context.ts';
import { parseTrustedProxies } from '../../net/client-ip.ts';
import type { Cidr } from '../../net/ip.ts';
import { checkGatewayHost, type HostAllowList, parseHostAllowList } from '../../net/ssrf.ts';
import type { Keyring } from '../../secrets/keyring.ts';
import type { Store } from '../../store/db.ts';
import { gateways, grants, knocs } from '../../store/schema/access.ts';
import { computeDesiredSet, type DesiredEntry } from '../desired-set.ts';
import { ExpiryScheduler } from '../expiry.ts';
import { ReconcilerPool, reconcilerKey } from '../pool.ts';
import { AliasReconciler, type BackoffPolicy, type ReconcileOutcome } from '../reconciler.ts';
import { type AccessEvent, AccessEventBus, storeEvents } from './events.ts';
import { GrantBatcher } from './grant-batcher.ts';
import {
  expireDue,
  type GrantChange,
  type GrantNotifier,
  type GrantRow,
  revokeForInactiveUsers,
} from './grants.ts';

const PFSENSE_CODES = { aliasNotFound: 'PFS103', aliasUnusable: 'PFS102', verifyMismatch: 'PFS400' };

export interface AccessSettings {
  /** `PORTCULLIS_ALLOW_GATEWAY_HOSTS`. */
  allowHosts: HostAllowList;
  /** `PORTCULLIS_TRUST_PROXY` as CIDRs (`true` trusts every peer). */
  trustedProxies: Cidr[];
  /** `PORTCULLIS_RECONCILE_INTERVAL_SECONDS` × 1000 (default 5 min); null disables the periodic run. */
  reconcileIntervalMs: number | null;
  /** Retry backoff of failed runs (tests shorten it). */
  backoff?: Partial<BackoffPolicy>;
  adapter?: AdapterTuning;
}

/** Reads the access settings from the environment; a bad value throws, naming the variable. */
export function accessSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): AccessSettings {
  const rawInterval = env.PORTCULLIS_RECONCILE_INTERVAL_SECONDS;
  let reconcileIntervalMs: number | null = 300_000;
  if (rawInterval !== undefined && rawInterval !== '') {
    if (!/^\d+$/.test(rawInterval) || Number(rawInterval) > 86_400) {
      throw new Error(
        'PORTCULLIS_RECONCILE_INTERVAL_SECONDS: must be a whole number of seconds, 0 (off) to 86400',
      );
    }
    reconcileIntervalMs = Number(rawInterval) === 0 ? null : Number(rawInterval) * 1_000;
  }
  const proxies = env.PORTCULLIS_TRUST_PROXY;
  return {
    allowHosts: parseHostAllowList(env.PORTCULLIS_ALLOW_GATEWAY_HOSTS),
    trustedProxies:
      proxies === 'true'
        ? parseTrustedProxies('0.0.0.0/0,::/0')
        : proxies === 'false'
          ? []
          : parseTrustedProxies(proxies),
    reconcileIntervalMs,
  };
}

export interface KnocStatus {
  desired_count: number;
  device_count: number | null;
  last_sync_at: string | null;
  last_apply_at: string | null;
  pending: boolean;
  error: { code: string; message: string; since: string } | null;
}

/** The active knocs sharing one (gateway, alias). */
interface KeyInfo {
  orgId: string;
  gatewayId: string;
  aliasName: string;
  knocIds: string[];
  createIfMissing: boolean;
  killStates: boolean;
}

type KnocLocation = { orgId: string; key: string | null };

const iso = (value: Date | number | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();

export class AccessRuntime implements GrantNotifier {
  readonly events = new AccessEventBus();
  /** Where request paths create grants: concurrent callers share one transaction (ADR 0096). */
  readonly grantWriter: GrantBatcher;
  private readonly pool: ReconcilerPool;
  private readonly passiveExpiry: ExpiryScheduler<string>;
  private readonly keys = new Map<string, KeyInfo>();
  private readonly knocLocations = new Map<string, KnocLocation>();
  private readonly adapters = new Map<string, Promise<FirewallAdapter & { close(): Promise<void> }>>();
  private readonly failing = new Set<string>();
  private persisting: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    private readonly log: FastifyBaseLogger,
    readonly settings: AccessSettings,
  ) {
    this.grantWriter = new GrantBatcher(store.db, this);
    this.pool = new ReconcilerPool((key) => this.createReconciler(key));
    this.passiveExpiry = new ExpiryScheduler<string>((ids) => this.background(this.expirePassive(ids)));
  }

  /** Builds the reconcilers of every active knoc and tracks every open grant. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const active = await this.store.db
      .selectDistinct({ gatewayId: knocs.gatewayId, aliasName: knocs.aliasName })
      .from(knocs)
      .innerJoin(gateways, eq(gateways.id, knocs.gatewayId))
      .where(and(eq(knocs.mode, 'active'), isNull(knocs.deletedAt), isNull(gateways.deletedAt)));
    for (const row of active) await this.refreshKey(reconcilerKey(row.gatewayId, row.aliasName));
    const open = await this.store.db.select().from(grants).where(isNull(grants.endedAt));
    for (const grant of open) await this.track(grant);
    this.log.info({ reconcilers: this.keys.size, grants: open.length }, 'access runtime started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.passiveExpiry.stop();
    await this.pool.stop();
    await this.persisting;
    for (const adapter of this.adapters.values()) await (await adapter.catch(() => null))?.close();
    this.adapters.clear();
  }

  /** Resolves once no reconciler run is queued or in flight and their outcomes are stored (tests, tools). */
  async settled(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      const before = this.persisting;
      await Promise.all([...this.keys.keys()].map((key) => this.pool.get(key).idle()));
      await before;
      if (before === this.persisting) return;
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Notifications from the services

  async grantsChanged(change: GrantChange): Promise<void> {
    const keys = new Set<string>();
    for (const grant of change.created) {
      const key = await this.track(grant);
      if (key !== null) keys.add(key);
    }
    for (const grant of change.ended) {
      this.pool.forgetGrant(grant.id);
      this.passiveExpiry.delete(grant.id);
      const key = (await this.locate(grant.knocId)).key;
      if (key !== null) keys.add(key);
    }
    for (const key of keys) if (this.keys.has(key)) this.pool.poke(key);
    this.events.emit(change.events);
  }

  /** A knoc was created, changed or deleted: refresh its old and new keys and re-track its open grants. */
  async knocChanged(
    knocId: string,
    previous: { gatewayId: string; aliasName: string } | null,
  ): Promise<void> {
    this.knocLocations.delete(knocId);
    const location = await this.locate(knocId);
    if (previous !== null) {
      const old = reconcilerKey(previous.gatewayId, previous.aliasName);
      if (old !== location.key) await this.refreshKey(old);
    }
    if (location.key !== null) await this.refreshKey(location.key);
    const open = await this.store.db
      .select()
      .from(grants)
      .where(and(eq(grants.knocId, knocId), isNull(grants.endedAt)));
    for (const grant of open) {
      this.pool.forgetGrant(grant.id);
      this.passiveExpiry.delete(grant.id);
      await this.track(grant);
    }
    if (location.key !== null && this.keys.has(location.key)) this.pool.poke(location.key);
  }

  /** A gateway's connection changed: drop its adapter; its reconcilers use the new one from the next run. */
  async gatewayChanged(gatewayId: string): Promise<void> {
    const adapter = this.adapters.get(gatewayId);
    this.adapters.delete(gatewayId);
    await (await adapter?.catch(() => null))?.close();
    for (const [key, info] of this.keys) if (info.gatewayId === gatewayId) this.pool.poke(key);
  }

  /** The knoc status of `GET /knocs/{id}/status`: live reconciler state, else what the store remembers. */
  async status(knoc: typeof knocs.$inferSelect): Promise<KnocStatus> {
    const persisted = {
      last_sync_at: iso(knoc.lastSyncAt),
      last_apply_at: iso(knoc.lastApplyAt),
      error:
        knoc.syncErrorCode === null
          ? null
          : {
              code: knoc.syncErrorCode,
              message: knoc.syncErrorMessage ?? '',
              since: iso(knoc.syncErrorSince) ?? '',
            },
    };
    const key =
      knoc.mode === 'active' && knoc.deletedAt === null
        ? reconcilerKey(knoc.gatewayId, knoc.aliasName)
        : null;
    const live = key !== null && this.keys.has(key) ? this.pool.status(key) : undefined;
    if (live !== undefined) {
      return {
        desired_count: live.desiredCount,
        device_count: live.deviceCount ?? knoc.deviceCount,
        last_sync_at: iso(live.lastSyncAt) ?? persisted.last_sync_at,
        last_apply_at: iso(live.lastApplyAt) ?? persisted.last_apply_at,
        pending: live.pending,
        error:
          live.error === null
            ? null
            : { code: live.error.code, message: live.error.message, since: iso(live.error.since) as string },
      };
    }
    const [count] = await this.store.db
      .select({ n: sql<number>`count(distinct ${grants.ip})::int` })
      .from(grants)
      .where(and(eq(grants.knocId, knoc.id), isNull(grants.endedAt), gt(grants.expiresAt, new Date())));
    return {
      desired_count: count?.n ?? 0,
      device_count: knoc.mode === 'active' ? knoc.deviceCount : null,
      ...persisted,
      pending: false,
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // Keys, grants and reconcilers

  private systemContext(orgId: string): ServiceContext {
    return serviceContext(this.store.db, this.keyring, { orgId, actor: SYSTEM_ACTOR });
  }

  private background(work: Promise<unknown>): void {
    work.catch((err: unknown) => this.log.error({ err }, 'access runtime task failed'));
  }

  /** Where a knoc's grants go: its reconciler key when active and live, null otherwise. */
  private async locate(knocId: string): Promise<KnocLocation> {
    const cached = this.knocLocations.get(knocId);
    if (cached) return cached;
    const [row] = await this.store.db
      .select({
        orgId: knocs.orgId,
        mode: knocs.mode,
        gatewayId: knocs.gatewayId,
        aliasName: knocs.aliasName,
        deletedAt: knocs.deletedAt,
      })
      .from(knocs)
      .where(eq(knocs.id, knocId))
      .limit(1);
    const location: KnocLocation = {
      orgId: row?.orgId ?? '',
      key:
        row && row.mode === 'active' && row.deletedAt === null
          ? reconcilerKey(row.gatewayId, row.aliasName)
          : null,
    };
    this.knocLocations.set(knocId, location);
    return location;
  }

  /** Tracks an open grant's expiry; returns its reconciler key (null for passive or deleted knocs). */
  private async track(grant: GrantRow): Promise<string | null> {
    const location = await this.locate(grant.knocId);
    if (location.key === null) {
      this.passiveExpiry.set(grant.id, grant.expiresAt.getTime());
      return null;
    }
    if (!this.keys.has(location.key)) await this.refreshKey(location.key);
    if (this.keys.has(location.key)) this.pool.trackGrant(grant.id, location.key, grant.expiresAt.getTime());
    return location.key;
  }

  /** Re-reads the active knocs of a key; starts its reconciler when new, removes it when none is left. */
  private async refreshKey(key: string): Promise<void> {
    const [gatewayId, aliasName] = key.split('\u0000') as [string, string];
    const rows = await this.store.db
      .select({
        id: knocs.id,
        orgId: knocs.orgId,
        createAlias: knocs.createAliasIfMissing,
        kill: knocs.killStatesOnRevoke,
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
    const known = this.keys.has(key);
    this.keys.set(key, {
      orgId: (rows[0] as { orgId: string }).orgId,
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
    const gatewayId = (info() as KeyInfo).gatewayId;
    return new AliasReconciler({
      aliasName: (info() as KeyInfo).aliasName,
      target: this.targetFor(gatewayId),
      desired: () => this.desired(key),
      createIfMissing: () => info()?.createIfMissing ?? false,
      killStatesOnRevoke: () => info()?.killStates ?? true,
      codes: PFSENSE_CODES,
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
    const expired = await expireDue(this.systemContext(info.orgId), info.knocIds);
    const revoked = await revokeForInactiveUsers(this.systemContext(info.orgId), info.knocIds);
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

  private async expirePassive(grantIds: string[]): Promise<void> {
    const rows = await this.store.db
      .selectDistinct({ knocId: grants.knocId, orgId: grants.orgId })
      .from(grants)
      .where(inArray(grants.id, grantIds));
    for (const orgId of new Set(rows.map((row) => row.orgId))) {
      const knocIds = rows.filter((row) => row.orgId === orgId).map((row) => row.knocId);
      this.events.emit((await expireDue(this.systemContext(orgId), knocIds)).events);
    }
  }

  /** An `AliasTarget` that resolves the gateway's adapter at every call, so a gateway edit takes effect. */
  private targetFor(gatewayId: string): AliasTarget {
    const adapter = () => this.adapterFor(gatewayId);
    return {
      getAlias: async (name) => (await adapter()).getAlias(name),
      createAlias: async (name, type, description) => (await adapter()).createAlias(name, type, description),
      setAliasEntries: async (name, entries) => (await adapter()).setAliasEntries(name, entries),
      apply: async () => (await adapter()).apply(),
      killStates: async (ip) => (await adapter()).killStates(ip),
    };
  }

  /** The cached adapter of a gateway (built on first use, dropped by `gatewayChanged`). */
  adapterFor(gatewayId: string): Promise<FirewallAdapter & { close(): Promise<void> }> {
    let adapter = this.adapters.get(gatewayId);
    if (adapter === undefined) {
      adapter = this.buildGatewayAdapter(gatewayId);
      this.adapters.set(gatewayId, adapter);
      // A failed build (gateway gone, host refused) is retried at the next run.
      adapter.catch(() => this.adapters.get(gatewayId) === adapter && this.adapters.delete(gatewayId));
    }
    return adapter;
  }

  private async buildGatewayAdapter(
    gatewayId: string,
  ): Promise<FirewallAdapter & { close(): Promise<void> }> {
    const [row] = await this.store.db
      .select({ orgId: gateways.orgId })
      .from(gateways)
      .where(eq(gateways.id, gatewayId))
      .limit(1);
    try {
      const conn = await gatewayConnection(this.systemContext(row?.orgId ?? ''), gatewayId);
      await checkGatewayHost(conn.url, { allowHosts: this.settings.allowHosts });
      return buildAdapter(conn, {
        allowHosts: this.settings.allowHosts,
        ...(this.settings.adapter ? { tuning: this.settings.adapter } : {}),
      });
    } catch (err) {
      if (err instanceof DomainError) {
        throw new AdapterError('pfsense', 'PFS000', `gateway ${gatewayId} cannot be used: ${err.message}`);
      }
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Outcomes

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
        await record(tx as unknown as Store['db'], {
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
