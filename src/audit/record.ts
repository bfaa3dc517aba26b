/**
 * @module Writing the audit log. `record` runs on the caller's `Db` — pass the transaction that makes the
 * change, so the entry commits or rolls back with it. `before`/`after` are redacted here, always.
 */

import { redact } from '../secrets/redact.ts';
import type { Db } from '../store/db.ts';
import { auditLog } from '../store/schema/audit.ts';

export type ActorType = 'user' | 'token' | 'system' | 'anonymous';
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** Who acts, and from where: carried by every service call so each change can be attributed. */
export interface Actor {
  type: ActorType;
  /** The user's id — for `token` too (the token's owner), so "what did alice do" finds both. */
  id: string | null;
  /** Human label, e.g. `alice` or `alice (token ci-deploy)`. */
  name: string | null;
  sourceIp: string | null;
  requestId: string | null;
}

export const SYSTEM_ACTOR: Actor = {
  type: 'system',
  id: null,
  name: 'system',
  sourceIp: null,
  requestId: null,
};

export interface AuditEntry {
  orgId: string;
  actor: Actor;
  /** Dotted `<target>.<verb>`, e.g. `user.create`, `auth.login`, `keys.rotate`. */
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  siteId?: string | null;
  before?: unknown;
  after?: unknown;
  outcome?: AuditOutcome;
}

export async function record(db: Db, entry: AuditEntry): Promise<void> {
  await recordAll(db, [entry]);
}

/** Writes several entries in one multi-row insert, in order (ids follow the list). */
export async function recordAll(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insert(auditLog).values(
    entries.map((entry) => ({
      orgId: entry.orgId,
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      actorName: entry.actor.name,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      siteId: entry.siteId ?? null,
      before: entry.before === undefined ? null : toJson(redact(entry.before)),
      after: entry.after === undefined ? null : toJson(redact(entry.after)),
      sourceIp: entry.actor.sourceIp,
      requestId: entry.actor.requestId,
      outcome: entry.outcome ?? 'success',
    })),
  );
}

/** JSON round trip so Dates become ISO strings the same way on both drivers. */
function toJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
