/**
 * @module Identity tables: users, groups, roles, role bindings, sessions, API tokens and the login throttle.
 *
 * Conventions: every table carries `org_id`; secrets never sit in plain text — one-way secrets (passwords,
 * session ids, CSRF tokens, API token secrets) are stored as hashes, two-way secrets (TOTP seeds) as keyring
 * ciphertexts in a column whose name ends in `_enc` and which is registered in `src/secrets/registry.ts`.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { orgRef, timestamps, tz } from './tenancy.ts';


export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    /** Stored lower-case; unique per org among users that are not soft-deleted. */
    username: text('username').notNull(),
    displayName: text('display_name').notNull().default(''),
    email: text('email'),
    /** `scrypt$N$r$p$salt$hash` (see src/identity/password.ts). */
    passwordHash: text('password_hash').notNull(),
    passwordChangedAt: tz('password_changed_at').notNull().defaultNow(),
    /** Keyring ciphertext of the base32 TOTP seed (AAD `users:<id>:totp_secret_enc`). */
    totpSecretEnc: text('totp_secret_enc'),
    totpEnabled: boolean('totp_enabled').notNull().default(false),
    /** Last accepted TOTP time step: a code for this step or an earlier one is a replay. */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    disabled: boolean('disabled').notNull().default(false),
    ...timestamps,
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    uniqueIndex('users_org_username_live_uq').on(t.orgId, t.username).where(sql`${t.deletedAt} is null`),
    index('users_org_idx').on(t.orgId),
  ],
);

export const groups = pgTable(
  'groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    ...timestamps,
  },
  (t) => [uniqueIndex('groups_org_name_uq').on(t.orgId, t.name)],
);

export const groupMembers = pgTable(
  'group_members',
  {
    orgId: orgRef(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index('group_members_user_idx').on(t.userId)],
);

export const roles = pgTable(
  'roles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** Built-in roles (viewer, operator, admin, owner) are defined in code and immutable through the API. */
    builtin: boolean('builtin').notNull().default(false),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    ...timestamps,
  },
  (t) => [uniqueIndex('roles_org_name_uq').on(t.orgId, t.name)],
);

export const roleBindings = pgTable(
  'role_bindings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    groupId: uuid('group_id').references(() => groups.id, { onDelete: 'cascade' }),
    /** `null`: every site of the org. A list: the binding only applies to these sites. */
    siteIds: uuid('site_ids').array(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('role_bindings_one_subject', sql`(${t.userId} is null) <> (${t.groupId} is null)`),
    index('role_bindings_user_idx').on(t.userId),
    index('role_bindings_group_idx').on(t.groupId),
    index('role_bindings_role_idx').on(t.roleId),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** SHA-256 (hex) of the session secret sent in the cookie. */
    tokenHash: text('token_hash').notNull().unique(),
    /** SHA-256 (hex) of the CSRF token handed to the client at sign-in. */
    csrfHash: text('csrf_hash').notNull(),
    sourceIp: text('source_ip'),
    userAgent: text('user_agent'),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
    revokedAt: tz('revoked_at'),
    /** The identity provider the session was signed in with (docs/sso.md), or null for a local sign-in. */
    providerId: uuid('provider_id'),
    /** `portal` or `console` for a single sign-on session (a portal one carries no management rights). */
    audience: text('audience'),
    /** The provider's subject (`sub`, SAML NameID) and its session (`sid`, SAML SessionIndex): its logout ends this. */
    ssoSubject: text('sso_subject'),
    ssoSessionId: text('sso_session_id'),
  },
  (t) => [
    index('sessions_user_idx').on(t.userId),
    index('sessions_provider_subject_idx').on(t.providerId, t.ssoSubject),
  ],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** Public lookup part of `pc_<prefix>_<secret>`. */
    prefix: text('prefix').notNull().unique(),
    /** SHA-256 (hex) of the secret part; the secret is 256 random bits, so a fast hash is enough. */
    secretHash: text('secret_hash').notNull(),
    /** `null`: the owner's rights. A list: at most these permissions (intersected with the owner's). */
    permissions: text('permissions').array(),
    expiresAt: tz('expires_at'),
    revokedAt: tz('revoked_at'),
    lastUsedAt: tz('last_used_at'),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

/** Failed sign-in counters per key (`user:<org>:<username>` or `ip:<address>`), shared by every node. */
export const loginThrottle = pgTable('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  windowStartedAt: tz('window_started_at').notNull().defaultNow(),
});
