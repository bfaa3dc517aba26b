/**
 * @module Forwards committed audit rows to syslog (docs/adr/0236-audit-syslog.md). Audit entries are written inside
 * the transaction of the change they describe, so the forwarder reads the table instead of hooking `record`: a
 * rolled-back change never reaches the collector. It tails `audit_log` by id from the newest row at start (history
 * is not replayed). Ids are taken at insert and committed later, so a lower id can appear after a higher one: the
 * cursor stops at a missing id for `gapGraceMs` (an open transaction), sends what lies beyond it, and passes the
 * gap afterwards (a rolled-back insert leaves one for good).
 *
 * Several nodes on one store (docs/scale-out.md) forward through one of them (ADR 0237): the node holding the
 * `audit-syslog` lease. The cursor and the gap state live in `audit_syslog_cursor`, read when the lease is taken
 * and written after every pass, so a restart or a takeover continues where the last holder stopped. Rows the
 * last holder sent in the pass it never stored (at most one batch) are sent again: at-least-once.
 */
import { and, asc, eq, gt, max, sql } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { auditLog, auditSyslogCursor } from '../store/schema/audit.ts';
import { clusterLeases } from '../store/schema/cluster.ts';
import { formatSyslogMessage, type SyslogAuditEvent, type SyslogSender } from './syslog.ts';

export interface AuditSyslogForwarderOptions {
  hostname: string;
  facility?: number;
  pollMs?: number;
  gapGraceMs?: number;
  /** Called when a poll fails (database unavailable); the next poll retries. */
  onError?: (error: unknown) => void;
}

const BATCH = 500;

/** The lease (and cursor row) of the one node forwarding on a store. */
export const AUDIT_SYSLOG_LEASE = 'audit-syslog';

/** The leases of this node on the store (src/cluster/node.ts `ClusterNode`). */
export interface ForwarderLeases {
  readonly id: string;
  acquire(names: readonly string[]): Promise<Set<string>>;
  holds(name: string): boolean;
  release(names: readonly string[]): Promise<void>;
}

export class AuditSyslogForwarder {
  private cursor = 0;
  /** Ids above the cursor already sent (beyond a gap). */
  private readonly sentAbove = new Set<number>();
  /** When the id just above the cursor was first found missing. */
  private gapSince: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private started = false;
  private leases: ForwarderLeases | null = null;
  /** The cursor in memory is the stored one (loaded since the lease was last taken). */
  private loaded = false;

  constructor(
    private readonly db: Db,
    readonly sender: SyslogSender,
    private readonly options: AuditSyslogForwarderOptions,
  ) {}

  /** Whether this node sends audit rows now (holds the lease; always, once started, without leases). */
  get forwarding(): boolean {
    return this.started && (this.leases === null || this.leases.holds(AUDIT_SYSLOG_LEASE));
  }

  /** Starts polling; with `leases` only while this node holds the `audit-syslog` lease. */
  async start(leases?: ForwarderLeases): Promise<void> {
    this.leases = leases ?? null;
    // The first forwarder ever on a store starts after the newest row (history is not replayed).
    const [newest] = await this.db.select({ id: max(auditLog.id) }).from(auditLog);
    await this.db
      .insert(auditSyslogCursor)
      .values({ name: AUDIT_SYSLOG_LEASE, lastId: newest?.id ?? 0 })
      .onConflictDoNothing();
    this.started = true;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    this.started = false;
    await this.sender.drain(1_000);
    await this.sender.close();
    // Hand over at once instead of after one lease; the cursor was stored by the last pass.
    if (this.leases?.holds(AUDIT_SYSLOG_LEASE)) {
      await this.leases.release([AUDIT_SYSLOG_LEASE]).catch((error: unknown) => this.options.onError?.(error));
    }
  }

  /** Whether this node forwards now: takes the lease when it is free, and reloads the cursor after taking it. */
  private async takeTurn(): Promise<boolean> {
    const leases = this.leases;
    if (leases !== null && !leases.holds(AUDIT_SYSLOG_LEASE)) {
      this.loaded = false;
      const got = await leases.acquire([AUDIT_SYSLOG_LEASE]);
      if (!got.has(AUDIT_SYSLOG_LEASE)) return false;
    }
    if (!this.loaded) await this.load();
    return true;
  }

  /** Reads the stored cursor (written by `start` when there was none). */
  private async load(): Promise<void> {
    const [row] = await this.db.select().from(auditSyslogCursor).where(eq(auditSyslogCursor.name, AUDIT_SYSLOG_LEASE));
    if (!row) throw new Error('audit syslog cursor row missing');
    this.cursor = row.lastId;
    this.sentAbove.clear();
    for (const id of row.sentAbove) this.sentAbove.add(id);
    this.gapSince = row.gapSince?.getTime() ?? null;
    this.loaded = true;
  }

  /**
   * Writes the cursor unless another node holds the lease (a node that lost it writes nothing). A lease already
   * given back (the node stopping while a pass was in flight) still lets the pass store what it sent.
   */
  private async save(): Promise<void> {
    const leases = this.leases;
    const stillHeld =
      leases === null
        ? undefined
        : sql`not exists (select 1 from ${clusterLeases} where ${clusterLeases.name} = ${AUDIT_SYSLOG_LEASE} and ${clusterLeases.nodeId} <> ${leases.id})`;
    const saved = await this.db
      .update(auditSyslogCursor)
      .set({
        lastId: this.cursor,
        sentAbove: [...this.sentAbove].sort((a, b) => a - b),
        gapSince: this.gapSince === null ? null : new Date(this.gapSince),
        updatedAt: new Date(),
      })
      .where(and(eq(auditSyslogCursor.name, AUDIT_SYSLOG_LEASE), stillHeld))
      .returning({ name: auditSyslogCursor.name });
    if (saved.length === 0) this.loaded = false;
  }

  /** One pass over new rows; concurrent calls share the pass in flight. Never rejects. */
  poll(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.running ??= this.pass()
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    if (!(await this.takeTurn())) return;
    const rows = await this.db
      .select({
        id: auditLog.id,
        orgId: auditLog.orgId,
        actorType: auditLog.actorType,
        actorId: auditLog.actorId,
        actorName: auditLog.actorName,
        action: auditLog.action,
        targetType: auditLog.targetType,
        targetId: auditLog.targetId,
        siteId: auditLog.siteId,
        sourceIp: auditLog.sourceIp,
        requestId: auditLog.requestId,
        outcome: auditLog.outcome,
        createdAt: auditLog.createdAt,
      })
      .from(auditLog)
      .where(gt(auditLog.id, this.cursor))
      .orderBy(asc(auditLog.id))
      .limit(BATCH);
    for (const row of rows) {
      if (this.sentAbove.has(row.id)) continue;
      this.sendRow(row);
      this.sentAbove.add(row.id);
    }
    const before = { cursor: this.cursor, sent: this.sentAbove.size, gapSince: this.gapSince };
    this.advance();
    const changed =
      rows.length > 0 || before.cursor !== this.cursor || before.sent !== this.sentAbove.size || before.gapSince !== this.gapSince;
    if (changed) await this.save();
  }

  private sendRow(row: SyslogAuditEvent): void {
    const maxBytes = this.sender.maxMessageBytes;
    this.sender.send(
      formatSyslogMessage(row, {
        hostname: this.options.hostname,
        ...(this.options.facility !== undefined ? { facility: this.options.facility } : {}),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
      }),
    );
  }

  /** Moves the cursor over sent ids, and over a missing one once it has been missing for the grace period. */
  private advance(): void {
    for (;;) {
      if (this.sentAbove.delete(this.cursor + 1)) {
        this.cursor++;
        this.gapSince = null;
        continue;
      }
      if (this.sentAbove.size === 0) return;
      const now = Date.now();
      this.gapSince ??= now;
      if (now - this.gapSince < (this.options.gapGraceMs ?? 30_000)) return;
      // Every id missing below the lowest sent one has been missing that long: pass them all.
      this.cursor = Math.min(...this.sentAbove) - 1;
      this.gapSince = null;
    }
  }
}
