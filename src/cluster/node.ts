/**
 * @module This process as one node of a cluster on one store (docs/scale-out.md, ADR 0220).
 *
 * Work is divided by leases in the store (`cluster_leases`), not by a coordinator: a node holds a named piece of
 * work (one (gateway, alias) reconciler) until `expires_at`, renews everything it holds every third of the lease,
 * and takes a lease only when it is free or expired. Times are the database's `now()`, so node clocks never
 * meet. A node that dies stops renewing; its leases expire and the next tick of another node takes them, so
 * work moves within one lease period plus one tick.
 *
 * A node trusts a lease it holds only until a local deadline (the instant it sent the renewal plus the lease,
 * minus a margin), earlier than the database's expiry; so it stops writing before anyone else may start.
 *
 * On PGlite the store belongs to one process (pid lock), so this node takes every lease it asks for.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/db.ts';

export interface NodeLease {
  name: string;
  /** The alias lease's (`access:<gateway>:<alias>`) gateway and alias. */
  gatewayId: string;
  aliasName: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface ClusterNodeView {
  id: string;
  hostname: string;
  pid: string;
  startedAt: string;
  heartbeatAt: string;
  /** Its last heartbeat is younger than one lease period. */
  alive: boolean;
  /** This is the node answering. */
  self: boolean;
  leases: NodeLease[];
}

/** Dead nodes' rows are kept this long after their last heartbeat, for the cluster view; then pruned. */
const DEAD_NODE_RETENTION = "interval '1 day'";

export class ClusterNode {
  readonly id = randomUUID();
  /** Lease name → local deadline (epoch ms) until which this node may act on it. */
  private readonly held = new Map<string, number>();
  private readonly force: boolean;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private tickListeners: Array<() => Promise<void>> = [];
  private stopped = false;

  constructor(
    private readonly store: Store,
    readonly leaseMs: number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.force = store.kind === 'pglite';
  }

  /** Registers the node and starts the heartbeat (every third of the lease). */
  async start(): Promise<void> {
    await this.store.query(
      `insert into cluster_nodes (id, hostname, pid) values ($1, $2, $3)
       on conflict (id) do update set heartbeat_at = now()`,
      [this.id, hostname().slice(0, 200), String(process.pid)],
    );
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** Runs after every heartbeat: where the owner of leases acquires free ones and drops lost ones. */
  onTick(listener: () => Promise<void>): void {
    this.tickListeners.push(listener);
  }

  /** Whether this node may act on `name` now. */
  holds(name: string): boolean {
    // PGlite: no other node can exist, so a slow heartbeat (a busy event loop) never costs the lease.
    if (this.force) return this.held.has(name);
    const deadline = this.held.get(name);
    return deadline !== undefined && Date.now() < deadline;
  }

  /** Names this node believes it holds. */
  heldNames(): string[] {
    return [...this.held.keys()];
  }

  /** Takes every lease of `names` that is free, expired or already ours; returns the ones now held. */
  async acquire(names: readonly string[]): Promise<Set<string>> {
    if (names.length === 0 || this.stopped) return new Set();
    const sent = Date.now();
    const rows = await this.store.query<{ name: string }>(
      `insert into cluster_leases (name, node_id, acquired_at, expires_at)
         select unnest($1::text[]), $2::uuid, now(), now() + $3::int * interval '1 millisecond'
       on conflict (name) do update
         set node_id = excluded.node_id,
             acquired_at = case when cluster_leases.node_id = excluded.node_id
                                then cluster_leases.acquired_at else now() end,
             expires_at = excluded.expires_at
         where cluster_leases.node_id = excluded.node_id or cluster_leases.expires_at < now() or $4::boolean
       returning name`,
      [names, this.id, this.leaseMs, this.force],
    );
    const got = new Set(rows.map((row) => row.name));
    for (const name of got) this.held.set(name, this.deadline(sent));
    return got;
  }

  /** Gives leases back (a key no longer needs a reconciler, or the node stops) so another node may take them. */
  async release(names: readonly string[]): Promise<void> {
    for (const name of names) this.held.delete(name);
    if (names.length === 0) return;
    await this.store.query(`delete from cluster_leases where node_id = $1 and name = any($2::text[])`, [
      this.id,
      names,
    ]);
  }

  /** Renews every lease held and the heartbeat; returns the names this node lost (expired and taken). */
  async renew(): Promise<string[]> {
    const sent = Date.now();
    await this.store.query(`update cluster_nodes set heartbeat_at = now() where id = $1`, [this.id]);
    const rows = await this.store.query<{ name: string }>(
      `update cluster_leases set expires_at = now() + $2::int * interval '1 millisecond'
       where node_id = $1 returning name`,
      [this.id, this.leaseMs],
    );
    const kept = new Set(rows.map((row) => row.name));
    const lost = [...this.held.keys()].filter((name) => !kept.has(name));
    for (const name of lost) this.held.delete(name);
    for (const name of kept) this.held.set(name, this.deadline(sent));
    return lost;
  }

  /** The nodes on this store, each with the live leases it holds on gateways of `orgId`. */
  async nodes(orgId: string): Promise<ClusterNodeView[]> {
    const nodes = await this.store.query<{
      id: string;
      hostname: string;
      pid: string;
      started_at: Date;
      heartbeat_at: Date;
      alive: boolean;
    }>(
      `select id, hostname, pid, started_at, heartbeat_at,
              heartbeat_at > now() - $1::int * interval '1 millisecond' as alive
       from cluster_nodes order by started_at, id`,
      [this.leaseMs],
    );
    const leases = await this.store.query<{
      name: string;
      node_id: string;
      gateway_id: string;
      alias_name: string;
      acquired_at: Date;
      expires_at: Date;
    }>(
      `select l.name, l.node_id, g.id as gateway_id, substr(l.name, 45) as alias_name, l.acquired_at, l.expires_at
       from cluster_leases l join gateways g on g.id::text = substr(l.name, 8, 36)
       where l.name like 'access:%' and l.expires_at > now() and g.org_id = $1
       order by l.name`,
      [orgId],
    );
    return nodes.map((node) => ({
      id: node.id,
      hostname: node.hostname,
      pid: node.pid,
      startedAt: new Date(node.started_at).toISOString(),
      heartbeatAt: new Date(node.heartbeat_at).toISOString(),
      alive: node.alive,
      self: node.id === this.id,
      leases: leases
        .filter((lease) => lease.node_id === node.id)
        .map((lease) => ({
          name: lease.name,
          gatewayId: lease.gateway_id,
          aliasName: lease.alias_name,
          acquiredAt: new Date(lease.acquired_at).toISOString(),
          expiresAt: new Date(lease.expires_at).toISOString(),
        })),
    }));
  }

  /** Stops the heartbeat, gives every lease back and removes this node's row. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    this.held.clear();
    try {
      await this.store.query(`delete from cluster_leases where node_id = $1`, [this.id]);
      await this.store.query(`delete from cluster_nodes where id = $1`, [this.id]);
    } catch (err) {
      // The store is gone (closed first, or unreachable): the leases expire by themselves within one lease.
      this.onError(err);
    }
  }

  /** One heartbeat now (tests, and the runtime after a change that wants an immediate decision). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= (async () => {
      try {
        await this.renew();
        await this.store.query(
          `delete from cluster_nodes where heartbeat_at < now() - ${DEAD_NODE_RETENTION}`,
        );
        for (const listener of this.tickListeners) await listener();
      } catch (err) {
        this.onError(err);
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  /** Acts on a lease only until a third of it before the store's expiry (which counts from a later instant). */
  private deadline(sentAt: number): number {
    return sentAt + this.leaseMs - Math.floor(this.leaseMs / 3);
  }
}
