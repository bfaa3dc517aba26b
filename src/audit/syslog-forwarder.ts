/**
 * @module Forwards committed audit rows to syslog (docs/adr/0236-audit-syslog.md). Audit entries are written inside
 * the transaction of the change they describe, so the forwarder reads the table instead of hooking `record`: a
 * rolled-back change never reaches the collector. It tails `audit_log` by id from the newest row at start (history
 * is not replayed). Ids are taken at insert and committed later, so a lower id can appear after a higher one: the
 * cursor stops at a missing id for `gapGraceMs` (an open transaction), sends what lies beyond it, and passes the
 * gap afterwards (a rolled-back insert leaves one for good).
 */
import { asc, gt, max } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { auditLog } from '../store/schema/audit.ts';
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

export class AuditSyslogForwarder {
  private cursor = 0;
  /** Ids above the cursor already sent (beyond a gap). */
  private readonly sentAbove = new Set<number>();
  /** When the id just above the cursor was first found missing. */
  private gapSince: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private started = false;

  constructor(
    private readonly db: Db,
    readonly sender: SyslogSender,
    private readonly options: AuditSyslogForwarderOptions,
  ) {}

  async start(): Promise<void> {
    const [row] = await this.db.select({ newest: max(auditLog.id) }).from(auditLog);
    this.cursor = row?.newest ?? 0;
    this.started = true;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.sender.drain(1_000);
    await this.sender.close();
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
    this.advance();
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
