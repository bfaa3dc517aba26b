/**
 * @module The service context every identity service takes: the database (root or a transaction), the org,
 * the keyring, who is acting (for the audit log) and the clock. Build one per request with `serviceContext`
 * and run multi-step work atomically with `inTransaction`.
 */
import type { Actor } from '../audit/record.ts';
import { SYSTEM_ACTOR } from '../audit/record.ts';
import type { Keyring } from '../secrets/keyring.ts';
import type { Db } from '../store/db.ts';
import { DEFAULT_ORG_ID } from '../store/schema/tenancy.ts';

export interface ServiceContext {
  readonly db: Db;
  readonly orgId: string;
  readonly keyring: Keyring;
  /** Recorded on every audit entry the services write. */
  readonly actor: Actor;
  readonly now: () => Date;
}

export function serviceContext(
  db: Db,
  keyring: Keyring,
  options: { orgId?: string; actor?: Actor; now?: () => Date } = {},
): ServiceContext {
  return {
    db,
    keyring,
    orgId: options.orgId ?? DEFAULT_ORG_ID,
    actor: options.actor ?? SYSTEM_ACTOR,
    now: options.now ?? (() => new Date()),
  };
}

/**
 * Runs `work` in a transaction (a savepoint when `ctx.db` already is one): every row it writes, audit entries
 * included, commits together or not at all.
 */
export function inTransaction<T>(ctx: ServiceContext, work: (tx: ServiceContext) => Promise<T>): Promise<T> {
  return ctx.db.transaction((tx) => work({ ...ctx, db: tx }));
}
