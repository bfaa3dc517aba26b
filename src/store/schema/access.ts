/**
 * @module Access tables: gateways (firewall connections), knocs (access policies), their user/group
 * assignments, grants (kept after they end) and the EDL fetch log (docs/product.md §1, docs/access.md, ADR 0090);
 * the event outbox is in events.ts.
 *
 * The gateway API key is a keyring ciphertext (`api_key_enc`, AAD `gateways:<id>:api_key_enc`, registered in
 * src/secrets/registry.ts); the EDL feed key is stored as its SHA-256 only.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { groups, users } from './identity.ts';
import { orgRef, sites, timestamps, tz } from './tenancy.ts';

const cidrList = (name: string) => text(name).array().notNull().default(sql`'{}'::text[]`);

export const gateways = pgTable(
  'gateways',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    name: text('name').notNull(),
    /** A vendor id of the registry (src/adapters/vendors.ts). */
    vendor: text('vendor').notNull(),
    url: text('url').notNull(),
    /**
     * Keyring ciphertext of the credentials, in the vendor's shape (src/firewall/credentials.ts); null for a
     * gateway restored from a backup until credentials are set.
     */
    apiKeyEnc: text('api_key_enc'),
    verifySsl: boolean('verify_ssl').notNull().default(true),
    caPem: text('ca_pem'),
    fingerprintSha256: text('fingerprint_sha256'),
    /**
     * How the gateway sees Portcullis's own API connection, for the lock-out check of a change: Portcullis's
     * address as the gateway sees it (after any NAT in between) and the interface it arrives on; null: derived.
     */
    managementSource: text('management_source'),
    managementInterface: text('management_interface'),
    /** Reachability as the health poll last saw it (null: never polled); transitions become events. */
    isOnline: boolean('is_online'),
    lastSeenAt: tz('last_seen_at'),
    /** Last health snapshot (per subsystem, WAN state) the poll diffs against to emit transition events. */
    health: jsonb('health'),
    /** `never` | `syncing` | `ok` | `failed`. */
    syncStatus: text('sync_status').notNull().default('never'),
    lastSyncAt: tz('last_sync_at'),
    syncErrorCode: text('sync_error_code'),
    syncErrorMessage: text('sync_error_message'),
    ...timestamps,
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    uniqueIndex('gateways_org_name_live_uq').on(t.orgId, t.name).where(sql`${t.deletedAt} is null`),
    index('gateways_site_idx').on(t.orgId, t.siteId),
  ],
);

export const knocs = pgTable(
  'knocs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    gatewayId: uuid('gateway_id')
      .notNull()
      .references(() => gateways.id),
    name: text('name').notNull(),
    /** `active` (pushed to the alias) | `passive` (EDL feed). */
    mode: text('mode').notNull(),
    aliasName: text('alias_name').notNull(),
    createAliasIfMissing: boolean('create_alias_if_missing').notNull().default(false),
    grantTtlSeconds: integer('grant_ttl_seconds').notNull(),
    maxTtlSeconds: integer('max_ttl_seconds').notNull(),
    allowedSources: cidrList('allowed_sources'),
    deniedSources: cidrList('denied_sources'),
    killStatesOnRevoke: boolean('kill_states_on_revoke').notNull().default(true),
    /**
     * Access requests (docs/access-requests.md): a grant needs a justification, and/or `approvals_required`
     * approvals from distinct members of the approver group; undecided requests expire after `request_ttl_seconds`.
     */
    requiresJustification: boolean('requires_justification').notNull().default(false),
    requiresApproval: boolean('requires_approval').notNull().default(false),
    approverGroupId: uuid('approver_group_id').references(() => groups.id, { onDelete: 'set null' }),
    approvalsRequired: integer('approvals_required').notNull().default(1),
    requestTtlSeconds: integer('request_ttl_seconds').notNull().default(86_400),
    /** Passive knocs: the feed path token, the SHA-256 of the feed key and who may fetch. */
    feedToken: text('feed_token').unique(),
    feedKeyHash: text('feed_key_hash'),
    feedAllowedSources: cidrList('feed_allowed_sources'),
    lastFetchAt: tz('last_fetch_at'),
    /** Last reconcile outcome of the knoc's (gateway, alias), persisted so status survives a restart. */
    lastSyncAt: tz('last_sync_at'),
    lastApplyAt: tz('last_apply_at'),
    deviceCount: integer('device_count'),
    syncErrorCode: text('sync_error_code'),
    syncErrorMessage: text('sync_error_message'),
    syncErrorSince: tz('sync_error_since'),
    ...timestamps,
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    uniqueIndex('knocs_org_name_live_uq').on(t.orgId, t.name).where(sql`${t.deletedAt} is null`),
    index('knocs_gateway_alias_idx').on(t.gatewayId, t.aliasName),
    index('knocs_site_idx').on(t.orgId, t.siteId),
  ],
);

export const knocUsers = pgTable(
  'knoc_users',
  {
    orgId: orgRef(),
    knocId: uuid('knoc_id')
      .notNull()
      .references(() => knocs.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.knocId, t.userId] }), index('knoc_users_user_idx').on(t.userId)],
);

export const knocGroups = pgTable(
  'knoc_groups',
  {
    orgId: orgRef(),
    knocId: uuid('knoc_id')
      .notNull()
      .references(() => knocs.id, { onDelete: 'cascade' }),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.knocId, t.groupId] }), index('knoc_groups_group_idx').on(t.groupId)],
);

export const grants = pgTable(
  'grants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    knocId: uuid('knoc_id')
      .notNull()
      .references(() => knocs.id),
    /** Null for an admin break-glass grant made for an address rather than a person. */
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    /** Canonical address text (IPv4, or RFC 5952 IPv6). */
    ip: text('ip').notNull(),
    /** `login` | `click` | `admin` | `client` | `approval` (an access request's final approval). */
    method: text('method').notNull(),
    reason: text('reason'),
    /** The portal session that made it (sign-out ends it); no FK: sessions are pruned, grants are history. */
    sessionId: uuid('session_id'),
    tokenId: uuid('token_id'),
    createdBy: uuid('created_by'),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
    endedAt: tz('ended_at'),
    /** `logout` | `revoked` | `expired` | `replaced`. */
    endReason: text('end_reason'),
    /** `pending` | `live` | `removed` | `failed` (ended before it ever reached the device). */
    syncState: text('sync_state').notNull().default('pending'),
    syncedAt: tz('synced_at'),
  },
  (t) => [
    index('grants_knoc_open_idx').on(t.knocId).where(sql`${t.endedAt} is null`),
    index('grants_org_created_idx').on(t.orgId, t.createdAt),
    index('grants_user_idx').on(t.userId),
    index('grants_session_idx').on(t.sessionId),
  ],
);

/** One row per EDL fetch, allowed or refused: when, from where, how many entries were served. */
export const edlFetches = pgTable(
  'edl_fetches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    orgId: orgRef(),
    knocId: uuid('knoc_id')
      .notNull()
      .references(() => knocs.id, { onDelete: 'cascade' }),
    sourceIp: text('source_ip').notNull(),
    status: integer('status').notNull(),
    entries: integer('entries'),
    format: text('format').notNull(),
    fetchedAt: tz('fetched_at').notNull().defaultNow(),
  },
  (t) => [index('edl_fetches_knoc_idx').on(t.knocId, t.fetchedAt)],
);

/**
 * An access request on a knoc that requires approval: what (knoc, address), how long (`ttl_seconds`, counted
 * from the final approval) and why; kept after it is decided or expires, with the grant it produced.
 */
export const accessRequests = pgTable(
  'access_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: uuid('site_id')
      .notNull()
      .references(() => sites.id),
    knocId: uuid('knoc_id')
      .notNull()
      .references(() => knocs.id),
    requesterId: uuid('requester_id').references(() => users.id, { onDelete: 'set null' }),
    /** Canonical client address the grant is for. */
    ip: text('ip').notNull(),
    ttlSeconds: integer('ttl_seconds').notNull(),
    justification: text('justification'),
    /** Snapshot of the knoc's rule when the request was made: later knoc edits do not move the goal posts. */
    approverGroupId: uuid('approver_group_id'),
    approvalsRequired: integer('approvals_required').notNull(),
    /** `pending` | `approved` | `denied` | `expired`. */
    status: text('status').notNull().default('pending'),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
    decidedAt: tz('decided_at'),
    grantId: uuid('grant_id').references(() => grants.id),
  },
  (t) => [
    index('access_requests_org_created_idx').on(t.orgId, t.createdAt),
    index('access_requests_pending_idx').on(t.expiresAt).where(sql`${t.status} = 'pending'`),
    index('access_requests_requester_idx').on(t.requesterId),
  ],
);

/** One approver's decision on a request; one per (request, approver), so a link or a retry cannot count twice. */
export const accessRequestDecisions = pgTable(
  'access_request_decisions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    requestId: uuid('request_id')
      .notNull()
      .references(() => accessRequests.id, { onDelete: 'cascade' }),
    approverId: uuid('approver_id').references(() => users.id, { onDelete: 'set null' }),
    approverName: text('approver_name').notNull(),
    /** `approve` | `deny`. */
    decision: text('decision').notNull(),
    comment: text('comment'),
    /** `console` (an API call) | `link` (a signed decision link). */
    via: text('via').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('access_request_decisions_one_per_approver_uq').on(t.requestId, t.approverId)],
);
