/**
 * @module The access runtime: wires the store to the firewalls (docs/adr/0094-access-runtime.md). It is split
 * by concern:
 * - `GatewayAdapters` (gateway-adapters.ts): one adapter per gateway, built through the vendor registry with
 *   the keyring, dropped when the gateway changes;
 * - `AccessReconcilers` (reconcilers.ts): one reconciler per (gateway, alias) of the active knocs, their
 *   desired sets from the store and their outcomes persisted;
 * - `knocSyncStatus` (status.ts): a knoc's sync status.
 * This class keeps them in step with the services' notifications: at start every active key gets its
 * reconciler and every open grant is tracked for expiry (one timer for the next instant; passive knocs have
 * their own scheduler, which only ends the grants in the store).
 *
 * Several nodes on one store (docs/scale-out.md): this process is one `ClusterNode`; a key's reconciler runs on
 * the node holding its lease (reconcilers.ts). Changes made here reach the other nodes as messages on the
 * store's channel `portcullis_access` (ADR 0221): pokes of keys they own, knoc and gateway changes.
 */

import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { AccessSettings } from '../../config.ts';
import type { Keyring } from '../../secrets/keyring.ts';
import { ClusterNode } from '../../cluster/node.ts';
import type { Store } from '../../store/db.ts';
import { gateways, grants, knocs } from '../../store/schema/access.ts';
import { ExpiryScheduler } from '../expiry.ts';
import { reconcilerKey } from '../pool.ts';
import { AccessEventBus } from './events.ts';
import { RefusedFetchLimiter } from './feed.ts';
import { GatewayAdapters } from './gateway-adapters.ts';
import { GrantBatcher } from './grant-batcher.ts';
import { expireDue, type GrantChange, type GrantNotifier, type GrantRow } from './grants.ts';
import { AccessReconcilers } from './reconcilers.ts';
import { type KnocSyncStatus, knocSyncStatus } from './status.ts';

export type { AccessSettings };

type KnocLocation = { orgId: string; key: string | null };

/** The channel of access messages between nodes. */
export const ACCESS_CHANNEL = 'portcullis_access';
export const DEFAULT_LEASE_MS = 15_000;

/** A message between nodes; `node` is the sender, which acts on its own change directly. */
type AccessMessage =
  | { node: string; type: 'poke'; keys: string[] }
  | { node: string; type: 'knoc'; knocId: string; previous: { gatewayId: string; aliasName: string } | null }
  | { node: string; type: 'gateway'; gatewayId: string };

export class AccessRuntime implements GrantNotifier {
  readonly events = new AccessEventBus();
  /** Where request paths create grants: concurrent callers share one transaction (ADR 0096). */
  readonly grantWriter: GrantBatcher;
  readonly adapters: GatewayAdapters;
  /** Bounds the rows refused EDL fetches write (src/access/service/feed.ts). */
  readonly refusedFeedFetches = new RefusedFetchLimiter();
  /** This process as a node of the cluster on the store (leases, heartbeat). */
  readonly node: ClusterNode;
  private readonly reconcilers: AccessReconcilers;
  private unsubscribe: (() => void) | null = null;
  private readonly passiveExpiry: ExpiryScheduler<string>;
  private readonly knocLocations = new Map<string, KnocLocation>();
  private started = false;

  constructor(
    private readonly store: Store,
    keyring: Keyring,
    private readonly log: FastifyBaseLogger,
    readonly settings: AccessSettings,
  ) {
    this.grantWriter = new GrantBatcher(store.db, this);
    this.adapters = new GatewayAdapters(store, keyring, settings);
    this.node = new ClusterNode(store, settings.leaseMs ?? DEFAULT_LEASE_MS, (err) =>
      log.warn({ err }, 'cluster node: a heartbeat or lease query failed (retried at the next heartbeat)'),
    );
    this.reconcilers = new AccessReconcilers(store, this.adapters, this.events, log, settings, this.node, (keys) =>
      this.publish({ type: 'poke', keys }),
    );
    this.passiveExpiry = new ExpiryScheduler<string>((ids) => this.background(this.expirePassive(ids)));
  }

  /** Builds the reconcilers of every active knoc and tracks every open grant. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.node.start();
    this.unsubscribe = await this.store.channel.subscribe(ACCESS_CHANNEL, (payload) =>
      this.background(this.received(payload as AccessMessage)),
    );
    this.store.channel.onReconnect(() => this.reconcilers.pokeEveryOwned());
    const active = await this.store.db
      .selectDistinct({ gatewayId: knocs.gatewayId, aliasName: knocs.aliasName })
      .from(knocs)
      .innerJoin(gateways, eq(gateways.id, knocs.gatewayId))
      .where(and(eq(knocs.mode, 'active'), isNull(knocs.deletedAt), isNull(gateways.deletedAt)));
    for (const row of active) await this.reconcilers.refresh(reconcilerKey(row.gatewayId, row.aliasName));
    const open = await this.store.db.select().from(grants).where(isNull(grants.endedAt));
    for (const grant of open) await this.track(grant);
    this.log.info(
      { reconcilers: this.reconcilers.size, grants: open.length, node_id: this.node.id },
      'access runtime started',
    );
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.passiveExpiry.stop();
    await this.reconcilers.stop();
    if (this.started) await this.node.stop();
    await this.adapters.closeAll();
  }

  /** Resolves once no reconciler run is queued or in flight and their outcomes are stored (tests, tools). */
  async settled(): Promise<void> {
    await this.reconcilers.settled();
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
      this.reconcilers.pool.forgetGrant(grant.id);
      this.passiveExpiry.delete(grant.id);
      const key = (await this.locate(grant.knocId)).key;
      if (key !== null) keys.add(key);
    }
    await this.reconcilers.pokeAll([...keys].filter((key) => this.reconcilers.has(key)));
    this.events.emit(change.events);
  }

  /** A knoc was created, changed or deleted: refresh its old and new keys and re-track its open grants. */
  async knocChanged(
    knocId: string,
    previous: { gatewayId: string; aliasName: string } | null,
  ): Promise<void> {
    await this.applyKnocChange(knocId, previous);
    await this.publish({ type: 'knoc', knocId, previous });
  }

  private async applyKnocChange(
    knocId: string,
    previous: { gatewayId: string; aliasName: string } | null,
  ): Promise<void> {
    this.knocLocations.delete(knocId);
    const location = await this.locate(knocId);
    if (previous !== null) {
      const old = reconcilerKey(previous.gatewayId, previous.aliasName);
      if (old !== location.key) await this.reconcilers.refresh(old);
    }
    if (location.key !== null) await this.reconcilers.refresh(location.key);
    const open = await this.store.db
      .select()
      .from(grants)
      .where(and(eq(grants.knocId, knocId), isNull(grants.endedAt)));
    for (const grant of open) {
      this.reconcilers.pool.forgetGrant(grant.id);
      this.passiveExpiry.delete(grant.id);
      await this.track(grant);
    }
    if (location.key !== null && this.reconcilers.owns(location.key)) this.reconcilers.pool.poke(location.key);
  }

  /** A gateway's connection changed: drop its adapter; its reconcilers use the new one from the next run. */
  async gatewayChanged(gatewayId: string): Promise<void> {
    await this.adapters.drop(gatewayId);
    this.reconcilers.pokeGateway(gatewayId);
    await this.publish({ type: 'gateway', gatewayId });
  }

  // -------------------------------------------------------------------------------------------------------
  // Messages between nodes

  private async publish(message: DistributiveOmit<AccessMessage, 'node'>): Promise<void> {
    await this.store.channel.publish(ACCESS_CHANNEL, { ...message, node: this.node.id });
  }

  private async received(message: AccessMessage): Promise<void> {
    if (message.node === this.node.id) return;
    if (message.type === 'poke' && Array.isArray(message.keys)) {
      this.reconcilers.pokeOwned(message.keys.filter((key): key is string => typeof key === 'string'));
    } else if (message.type === 'knoc' && typeof message.knocId === 'string') {
      await this.applyKnocChange(message.knocId, message.previous ?? null);
    } else if (message.type === 'gateway' && typeof message.gatewayId === 'string') {
      await this.adapters.drop(message.gatewayId);
      this.reconcilers.pokeGateway(message.gatewayId);
    }
  }

  /** The sync status of `GET /knocs/{id}/status`: live reconciler state, else what the store remembers. */
  async status(knoc: typeof knocs.$inferSelect): Promise<KnocSyncStatus> {
    const key =
      knoc.mode === 'active' && knoc.deletedAt === null
        ? reconcilerKey(knoc.gatewayId, knoc.aliasName)
        : null;
    return knocSyncStatus(this.store.db, knoc, key === null ? undefined : this.reconcilers.status(key));
  }

  // -------------------------------------------------------------------------------------------------------
  // Grants and their keys

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
    if (!this.reconcilers.has(location.key)) await this.reconcilers.refresh(location.key);
    // Expiry is tracked by the key's owner (from its desired set); here only when this node is the owner.
    if (this.reconcilers.owns(location.key)) {
      this.reconcilers.pool.trackGrant(grant.id, location.key, grant.expiresAt.getTime());
    }
    return location.key;
  }

  private async expirePassive(grantIds: string[]): Promise<void> {
    const rows = await this.store.db
      .selectDistinct({ knocId: grants.knocId, orgId: grants.orgId })
      .from(grants)
      .where(inArray(grants.id, grantIds));
    for (const orgId of new Set(rows.map((row) => row.orgId))) {
      const knocIds = rows.filter((row) => row.orgId === orgId).map((row) => row.knocId);
      this.events.emit((await expireDue(this.adapters.systemContext(orgId), knocIds)).events);
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
