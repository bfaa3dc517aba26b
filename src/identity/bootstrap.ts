/**
 * @module First-start bootstrap: built-in roles, then — only when the org has never had a user — the owner
 * account, from `PORTCULLIS_BOOTSTRAP_ADMIN=username:password` or as `admin` with a random password that is
 * returned once for the caller to print. Later starts find a user and do nothing (never print, never reset).
 * Runs under a transaction-scoped advisory lock so nodes starting together create one owner.
 */
import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { SYSTEM_ACTOR } from '../audit/record.ts';
import { envValue } from '../config.ts';
import type { Keyring } from '../secrets/keyring.ts';
import type { Db } from '../store/db.ts';
import { users } from '../store/schema/identity.ts';
import { DEFAULT_ORG_ID } from '../store/schema/tenancy.ts';
import { inTransaction, serviceContext } from '../core/context.ts';
import { builtinRoleIds, createRoleBinding, ensureBuiltinRoles } from './roles.ts';
import { createUser } from './users.ts';

const BOOTSTRAP_ENV = 'PORTCULLIS_BOOTSTRAP_ADMIN' as const;
const BOOTSTRAP_LOCK_KEY = 7_305_012_202;
const DEFAULT_OWNER_USERNAME = 'admin';

type BootstrapResult =
  | { created: false }
  | {
      created: true;
      userId: string;
      username: string;
      /** The generated password, to show once; `null` when it came from the environment. */
      generatedPassword: string | null;
    };

class BootstrapConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapConfigError';
  }
}

export async function ensureOwner(options: {
  db: Db;
  keyring: Keyring;
  orgId?: string;
  /** The parsed `PORTCULLIS_BOOTSTRAP_ADMIN` (the server passes its config's); otherwise read from `env`. */
  bootstrapAdmin?: { username: string; password: string } | null;
  env?: NodeJS.ProcessEnv;
}): Promise<BootstrapResult> {
  const orgId = options.orgId ?? DEFAULT_ORG_ID;
  const configured =
    options.bootstrapAdmin !== undefined
      ? options.bootstrapAdmin
      : envValue(BOOTSTRAP_ENV, options.env ?? process.env);
  const ctx = serviceContext(options.db, options.keyring, { orgId, actor: SYSTEM_ACTOR });
  return inTransaction(ctx, async (tx) => {
    await tx.db.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
    await ensureBuiltinRoles(tx.db, orgId);
    // Deleted users count: an org that once had users is not "first start".
    const [existing] = await tx.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.orgId, orgId))
      .limit(1);
    if (existing) return { created: false } as const;
    const username = configured?.username ?? DEFAULT_OWNER_USERNAME;
    const password = configured?.password ?? randomBytes(18).toString('base64url');
    let owner: Awaited<ReturnType<typeof createUser>>;
    try {
      owner = await createUser(tx, { username, password, displayName: 'Owner' });
    } catch (err) {
      if (configured) throw new BootstrapConfigError(`${BOOTSTRAP_ENV}: ${(err as Error).message}`);
      throw err;
    }
    const ownerRole = (await builtinRoleIds(tx.db, orgId)).get('owner');
    if (!ownerRole) throw new Error('built-in owner role missing after ensureBuiltinRoles');
    await createRoleBinding(tx, { roleId: ownerRole, userId: owner.id });
    return {
      created: true,
      userId: owner.id,
      username: owner.username,
      generatedPassword: configured ? null : password,
    };
  });
}
