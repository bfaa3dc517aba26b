/**
 * @module Knocs: access policies (docs/product.md §1). CRUD with user/group assignments; the gateway vendor's
 * list-name rules and capability flags and the source conditions are checked before anything is written;
 * passive-mode feed token and key (the key shown once, stored as its SHA-256) with one-call rotation; and the
 * knocs a person is entitled to (docs/adr/0092-knocs-and-feeds.md, docs/adr/0111-vendor-registry.md).
 */
import { and, asc, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import type { VendorDescriptor } from '../../adapters/registry.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { requireCapability, requireVendor } from '../../firewall/adapter.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { requireSiteIds } from '../../identity/sites.ts';
import { paging } from '../../core/paging.ts';
import {
  isUuid,
  requireBoolean,
  requireIdOrNotFound,
  requireName,
  requireUuid,
  uniquely,
} from '../../core/validate.ts';
import { formatCidr, parseCidrResult } from '../../net/ip.ts';
import type { Db } from '../../store/db.ts';
import { gateways, knocGroups, knocs, knocUsers } from '../../store/schema/access.ts';
import { groupMembers, groups, users } from '../../store/schema/identity.ts';
import { hashFeedKey, newFeedKey, newFeedToken } from '../edl.ts';
import { validateKnocLifetimes } from '../grant-policy.ts';

type KnocMode = 'active' | 'passive';

interface KnocView {
  id: string;
  siteId: string;
  gatewayId: string;
  name: string;
  mode: KnocMode;
  aliasName: string;
  createAliasIfMissing: boolean;
  grantTtlSeconds: number;
  maxTtlSeconds: number;
  allowedSources: string[];
  deniedSources: string[];
  killStatesOnRevoke: boolean;
  requiresJustification: boolean;
  requiresApproval: boolean;
  approverGroupId: string | null;
  approvalsRequired: number;
  requestTtlSeconds: number;
  users: string[];
  groups: string[];
  /** Passive knocs: the feed path token (`/edl/<token>.txt`), who may fetch, and the last fetch. */
  feedToken: string | null;
  feedAllowedSources: string[];
  lastFetchAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

type KnocRow = typeof knocs.$inferSelect;

interface KnocInput {
  name?: unknown;
  gateway_id?: unknown;
  mode?: unknown;
  alias_name?: unknown;
  create_alias_if_missing?: unknown;
  grant_ttl_seconds?: unknown;
  max_ttl_seconds?: unknown;
  allowed_sources?: unknown;
  denied_sources?: unknown;
  kill_states_on_revoke?: unknown;
  users?: unknown;
  groups?: unknown;
  site_id?: unknown;
  feed_allowed_sources?: unknown;
  requires_justification?: unknown;
  requires_approval?: unknown;
  approver_group_id?: unknown;
  approvals_required?: unknown;
  request_ttl_seconds?: unknown;
}

/** What a save changed, for the runtime: the reconciler keys to refresh. */
export interface KnocSaved {
  knoc: KnocView;
  /** Shown once: the feed key of a passive knoc created now or switched to passive. */
  feedKey: string | null;
  previous: { gatewayId: string; aliasName: string } | null;
}

const DEFAULT_GRANT_TTL = 3_600;
const DEFAULT_MAX_TTL = 8 * 3_600;

function modeOf(value: unknown): KnocMode {
  if (value !== 'active' && value !== 'passive')
    throw new ValidationError('mode', 'mode must be active or passive');
  return value;
}

/** A list name the gateway's vendor accepts (its descriptor's naming rules). */
function aliasNameOf(value: unknown, vendor: VendorDescriptor): string {
  if (typeof value !== 'string' || value === '')
    throw new ValidationError('alias_name', 'alias_name is required');
  const check = vendor.listNaming.check(value);
  if (!check.ok) throw new ValidationError('alias_name', `alias_name: ${check.message}`);
  return value;
}

/**
 * What the knoc asks of its gateway's vendor: an active knoc reads and writes the list; creating a missing
 * list and killing states are refused (naming the field) when the vendor lacks them.
 */
function requireKnocCapabilities(
  vendor: VendorDescriptor,
  knoc: { mode: KnocMode; createAliasIfMissing: boolean; killStatesOnRevoke: boolean },
): void {
  if (knoc.mode !== 'active') return;
  requireCapability(vendor, 'alias.read', 'mode');
  requireCapability(vendor, 'alias.write', 'mode');
  if (knoc.createAliasIfMissing) requireCapability(vendor, 'alias.create', 'create_alias_if_missing');
  if (knoc.killStatesOnRevoke) requireCapability(vendor, 'kill_states', 'kill_states_on_revoke');
}

/** A list of CIDRs (or addresses) from input, stored normalized; a bad entry is a 400 on `<field>.<i>`. */
function cidrsOf(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `${field} must be a list of CIDRs`);
  if (value.length > 1000) throw new ValidationError(field, `${field} must list at most 1000 ranges`);
  return value.map((item, i) => {
    const result = typeof item === 'string' ? parseCidrResult(item.trim()) : { ok: false as const, reason: 'must be a string' };
    if (!result.ok) throw new ValidationError(`${field}.${i}`, `${field}[${i}]: ${result.reason}`);
    return formatCidr(result.cidr);
  });
}

function idListOf(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `${field} must be a list of ids`);
  if (value.length > 10_000) throw new ValidationError(field, `${field} must list at most 10,000 ids`);
  return [...new Set(value.map((item, i) => requireUuid(`${field}.${i}`, item)))];
}

async function requireLiveIds(
  db: Db,
  orgId: string,
  field: 'users' | 'groups',
  ids: string[],
): Promise<void> {
  if (ids.length === 0) return;
  const found =
    field === 'users'
      ? await db
          .select({ id: users.id })
          .from(users)
          .where(and(eq(users.orgId, orgId), isNull(users.deletedAt), inArray(users.id, ids)))
      : await db
          .select({ id: groups.id })
          .from(groups)
          .where(and(eq(groups.orgId, orgId), inArray(groups.id, ids)));
  const known = new Set(found.map((row) => row.id));
  const missing = ids.findIndex((id) => !known.has(id));
  if (missing >= 0)
    throw new ValidationError(
      `${field}.${missing}`,
      `${field === 'users' ? 'user' : 'group'} ${ids[missing]} does not exist`,
    );
}

/** The live gateway of `gateway_id`, or a 400 naming the field (missing or deleted gateway). */
async function requireLiveGateway(
  ctx: ServiceContext,
  value: unknown,
): Promise<{ id: string; siteId: string; vendor: VendorDescriptor }> {
  const id = requireUuid('gateway_id', value);
  const [row] = await ctx.db
    .select({
      id: gateways.id,
      siteId: gateways.siteId,
      vendor: gateways.vendor,
      deletedAt: gateways.deletedAt,
    })
    .from(gateways)
    .where(and(eq(gateways.orgId, ctx.orgId), eq(gateways.id, id)))
    .limit(1);
  if (!row) throw new ValidationError('gateway_id', `gateway ${id} does not exist`);
  if (row.deletedAt !== null) throw new ValidationError('gateway_id', `gateway ${id} has been deleted`);
  return { id: row.id, siteId: row.siteId, vendor: requireVendor(row.vendor, 'gateway_id') };
}

type RequestSettings = Pick<
  typeof knocs.$inferInsert,
  'requiresJustification' | 'requiresApproval' | 'approverGroupId' | 'approvalsRequired' | 'requestTtlSeconds'
>;

const MIN_REQUEST_TTL = 60;
const MAX_REQUEST_TTL = 30 * 86_400;

/**
 * The access-request settings of a create or update, merged over `before`: approval needs an approver group of
 * the org, and `approvals_required` (N) must not exceed its member count (M), else no request could ever pass.
 */
async function requestSettingsOf(
  ctx: ServiceContext,
  input: KnocInput,
  before: Required<RequestSettings>,
): Promise<Partial<RequestSettings>> {
  const set: Partial<RequestSettings> = {};
  if (input.requires_justification !== undefined)
    set.requiresJustification = requireBoolean('requires_justification', input.requires_justification);
  if (input.requires_approval !== undefined)
    set.requiresApproval = requireBoolean('requires_approval', input.requires_approval);
  if (input.approver_group_id !== undefined)
    set.approverGroupId =
      input.approver_group_id === null ? null : requireUuid('approver_group_id', input.approver_group_id);
  if (input.approvals_required !== undefined) {
    const n = input.approvals_required;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 100)
      throw new ValidationError('approvals_required', 'approvals_required must be a whole number from 1 to 100');
    set.approvalsRequired = n;
  }
  if (input.request_ttl_seconds !== undefined) {
    const ttl = input.request_ttl_seconds;
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < MIN_REQUEST_TTL || ttl > MAX_REQUEST_TTL)
      throw new ValidationError(
        'request_ttl_seconds',
        `request_ttl_seconds must be whole seconds from ${MIN_REQUEST_TTL} to ${MAX_REQUEST_TTL}`,
      );
    set.requestTtlSeconds = ttl;
  }
  const merged = { ...before, ...set };
  if (!merged.requiresApproval) return set;
  if (merged.approverGroupId === null)
    throw new ValidationError('approver_group_id', 'a knoc that requires approval needs an approver group');
  const [group] = await ctx.db
    .select({ id: groups.id })
    .from(groups)
    .where(and(eq(groups.orgId, ctx.orgId), eq(groups.id, merged.approverGroupId)))
    .limit(1);
  if (!group) throw new ValidationError('approver_group_id', `group ${merged.approverGroupId} does not exist`);
  const members = await ctx.db
    .select({ userId: groupMembers.userId })
    .from(groupMembers)
    .where(eq(groupMembers.groupId, group.id));
  if (merged.approvalsRequired > members.length)
    throw new ValidationError(
      'approvals_required',
      `approvals_required (${merged.approvalsRequired}) exceeds the ${members.length} member(s) of the approver group`,
    );
  return set;
}

const NO_REQUEST_SETTINGS: Required<RequestSettings> = {
  requiresJustification: false,
  requiresApproval: false,
  approverGroupId: null,
  approvalsRequired: 1,
  requestTtlSeconds: 86_400,
};

async function assignments(
  db: Db,
  knocIds: string[],
): Promise<{ users: Map<string, string[]>; groups: Map<string, string[]> }> {
  const byKnoc = () => new Map<string, string[]>(knocIds.map((id) => [id, []]));
  const out = { users: byKnoc(), groups: byKnoc() };
  if (knocIds.length === 0) return out;
  for (const row of await db.select().from(knocUsers).where(inArray(knocUsers.knocId, knocIds))) {
    out.users.get(row.knocId)?.push(row.userId);
  }
  for (const row of await db.select().from(knocGroups).where(inArray(knocGroups.knocId, knocIds))) {
    out.groups.get(row.knocId)?.push(row.groupId);
  }
  return out;
}

function toView(row: KnocRow, userIds: string[], groupIds: string[]): KnocView {
  return {
    id: row.id,
    siteId: row.siteId,
    gatewayId: row.gatewayId,
    name: row.name,
    mode: row.mode as KnocMode,
    aliasName: row.aliasName,
    createAliasIfMissing: row.createAliasIfMissing,
    grantTtlSeconds: row.grantTtlSeconds,
    maxTtlSeconds: row.maxTtlSeconds,
    allowedSources: row.allowedSources,
    deniedSources: row.deniedSources,
    killStatesOnRevoke: row.killStatesOnRevoke,
    requiresJustification: row.requiresJustification,
    requiresApproval: row.requiresApproval,
    approverGroupId: row.approverGroupId,
    approvalsRequired: row.approvalsRequired,
    requestTtlSeconds: row.requestTtlSeconds,
    users: userIds.sort(),
    groups: groupIds.sort(),
    feedToken: row.feedToken,
    feedAllowedSources: row.feedAllowedSources,
    lastFetchAt: row.lastFetchAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function views(db: Db, rows: KnocRow[]): Promise<KnocView[]> {
  const found = await assignments(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => toView(row, found.users.get(row.id) ?? [], found.groups.get(row.id) ?? []));
}

const live = (ctx: ServiceContext, id: string): SQL =>
  and(eq(knocs.orgId, ctx.orgId), eq(knocs.id, id), isNull(knocs.deletedAt)) as SQL;

export async function getKnocRow(ctx: ServiceContext, id: string): Promise<KnocRow> {
  requireIdOrNotFound('knoc', id);
  const [row] = await ctx.db.select().from(knocs).where(live(ctx, id)).limit(1);
  if (!row) throw new NotFoundError('knoc', id);
  return row;
}

export async function getKnoc(ctx: ServiceContext, id: string): Promise<KnocView> {
  const [view] = await views(ctx.db, [await getKnocRow(ctx, id)]);
  return view as KnocView;
}

export async function listKnocs(
  ctx: ServiceContext,
  options: { scope: 'all' | string[]; gatewayId?: string; limit?: number; offset?: number },
): Promise<KnocView[]> {
  if (options.scope !== 'all' && options.scope.length === 0) return [];
  const conditions: SQL[] = [eq(knocs.orgId, ctx.orgId), isNull(knocs.deletedAt)];
  if (options.scope !== 'all') conditions.push(inArray(knocs.siteId, options.scope));
  if (options.gatewayId) conditions.push(eq(knocs.gatewayId, options.gatewayId));
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select()
    .from(knocs)
    .where(and(...conditions))
    .orderBy(asc(knocs.name))
    .limit(limit)
    .offset(offset);
  return views(ctx.db, rows);
}

async function replaceAssignments(
  db: Db,
  orgId: string,
  knocId: string,
  userIds?: string[],
  groupIds?: string[],
): Promise<void> {
  if (userIds !== undefined) {
    await db.delete(knocUsers).where(eq(knocUsers.knocId, knocId));
    if (userIds.length > 0)
      await db.insert(knocUsers).values(userIds.map((userId) => ({ orgId, knocId, userId })));
  }
  if (groupIds !== undefined) {
    await db.delete(knocGroups).where(eq(knocGroups.knocId, knocId));
    if (groupIds.length > 0)
      await db.insert(knocGroups).values(groupIds.map((groupId) => ({ orgId, knocId, groupId })));
  }
}

function auditOf(view: KnocView) {
  return { ...view, feedToken: view.feedToken === null ? null : '[set]' };
}

/** Called with the site a write lands in, before anything is written (the route's site check). */
type AuthorizeSite = (siteId: string) => void;

export async function createKnoc(
  ctx: ServiceContext,
  input: KnocInput,
  authorizeSite: AuthorizeSite = () => {},
): Promise<KnocSaved> {
  const name = requireName('name', input.name);
  const gateway = await requireLiveGateway(ctx, input.gateway_id);
  authorizeSite(gateway.siteId);
  if (input.site_id !== undefined) {
    const [siteId] = await requireSiteIds(ctx, 'site_id', [input.site_id]).catch((err: unknown) => {
      throw err instanceof ValidationError ? new ValidationError('site_id', err.message) : err;
    });
    if (siteId !== gateway.siteId) {
      throw new ValidationError('site_id', 'site_id must be the site of the gateway (or be omitted)');
    }
  }
  const mode = modeOf(input.mode ?? 'active');
  const aliasName = aliasNameOf(input.alias_name, gateway.vendor);
  const grantTtl = input.grant_ttl_seconds ?? DEFAULT_GRANT_TTL;
  const maxTtl =
    input.max_ttl_seconds ?? Math.max(DEFAULT_MAX_TTL, typeof grantTtl === 'number' ? grantTtl : 0);
  validateKnocLifetimes(grantTtl, maxTtl);
  const allowed =
    input.allowed_sources === undefined ? [] : cidrsOf('allowed_sources', input.allowed_sources);
  const denied = input.denied_sources === undefined ? [] : cidrsOf('denied_sources', input.denied_sources);
  const feedAllowed =
    input.feed_allowed_sources === undefined
      ? []
      : cidrsOf('feed_allowed_sources', input.feed_allowed_sources);
  const createAlias =
    input.create_alias_if_missing === undefined
      ? false
      : requireBoolean('create_alias_if_missing', input.create_alias_if_missing);
  // Unset, a knoc kills the states of revoked addresses where its vendor can.
  const killStates =
    input.kill_states_on_revoke === undefined
      ? gateway.vendor.capabilities.kill_states
      : requireBoolean('kill_states_on_revoke', input.kill_states_on_revoke);
  requireKnocCapabilities(gateway.vendor, {
    mode,
    createAliasIfMissing: createAlias,
    killStatesOnRevoke: killStates,
  });
  const userIds = input.users === undefined ? [] : idListOf('users', input.users);
  const groupIds = input.groups === undefined ? [] : idListOf('groups', input.groups);
  await requireLiveIds(ctx.db, ctx.orgId, 'users', userIds);
  await requireLiveIds(ctx.db, ctx.orgId, 'groups', groupIds);
  const requestSettings = await requestSettingsOf(ctx, input, NO_REQUEST_SETTINGS);
  const feedKey = mode === 'passive' ? newFeedKey() : null;

  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `a knoc named ${JSON.stringify(name)} already exists`, () =>
      tx.db
        .insert(knocs)
        .values({
          orgId: tx.orgId,
          siteId: gateway.siteId,
          gatewayId: gateway.id,
          name,
          mode,
          aliasName,
          createAliasIfMissing: createAlias,
          grantTtlSeconds: grantTtl as number,
          maxTtlSeconds: maxTtl as number,
          allowedSources: allowed,
          deniedSources: denied,
          killStatesOnRevoke: killStates,
          feedToken: mode === 'passive' ? newFeedToken() : null,
          feedKeyHash: feedKey === null ? null : hashFeedKey(feedKey),
          feedAllowedSources: feedAllowed,
          ...requestSettings,
        })
        .returning(),
    );
    const knocRow = row as KnocRow;
    await replaceAssignments(tx.db, tx.orgId, knocRow.id, userIds, groupIds);
    const view = toView(knocRow, userIds, groupIds);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'knoc.create',
      targetType: 'knoc',
      targetId: view.id,
      siteId: view.siteId,
      after: auditOf(view),
    });
    return { knoc: view, feedKey, previous: null };
  });
}

export async function updateKnoc(
  ctx: ServiceContext,
  id: string,
  input: KnocInput,
  authorizeSite: AuthorizeSite = () => {},
): Promise<KnocSaved> {
  const before = await getKnoc(ctx, id);
  authorizeSite(before.siteId);
  const set: Partial<typeof knocs.$inferInsert> = {};
  if (input.name !== undefined) set.name = requireName('name', input.name);
  if (input.site_id !== undefined)
    throw new ValidationError('site_id', 'a knoc takes the site of its gateway');
  const gateway = await requireLiveGateway(ctx, input.gateway_id ?? before.gatewayId);
  if (input.gateway_id !== undefined) {
    if (gateway.siteId !== before.siteId) {
      throw new ValidationError('gateway_id', 'the new gateway must be in the same site as the knoc');
    }
    set.gatewayId = gateway.id;
  }
  if (input.mode !== undefined) set.mode = modeOf(input.mode);
  if (input.alias_name !== undefined) set.aliasName = aliasNameOf(input.alias_name, gateway.vendor);
  if (input.grant_ttl_seconds !== undefined || input.max_ttl_seconds !== undefined) {
    const grantTtl = input.grant_ttl_seconds ?? before.grantTtlSeconds;
    const maxTtl = input.max_ttl_seconds ?? before.maxTtlSeconds;
    validateKnocLifetimes(grantTtl, maxTtl);
    set.grantTtlSeconds = grantTtl as number;
    set.maxTtlSeconds = maxTtl as number;
  }
  if (input.allowed_sources !== undefined)
    set.allowedSources = cidrsOf('allowed_sources', input.allowed_sources);
  if (input.denied_sources !== undefined) set.deniedSources = cidrsOf('denied_sources', input.denied_sources);
  if (input.feed_allowed_sources !== undefined)
    set.feedAllowedSources = cidrsOf('feed_allowed_sources', input.feed_allowed_sources);
  if (input.create_alias_if_missing !== undefined)
    set.createAliasIfMissing = requireBoolean('create_alias_if_missing', input.create_alias_if_missing);
  if (input.kill_states_on_revoke !== undefined)
    set.killStatesOnRevoke = requireBoolean('kill_states_on_revoke', input.kill_states_on_revoke);
  requireKnocCapabilities(gateway.vendor, {
    mode: (set.mode as KnocMode | undefined) ?? before.mode,
    createAliasIfMissing: set.createAliasIfMissing ?? before.createAliasIfMissing,
    killStatesOnRevoke: set.killStatesOnRevoke ?? before.killStatesOnRevoke,
  });
  const userIds = input.users === undefined ? undefined : idListOf('users', input.users);
  const groupIds = input.groups === undefined ? undefined : idListOf('groups', input.groups);
  if (userIds) await requireLiveIds(ctx.db, ctx.orgId, 'users', userIds);
  if (groupIds) await requireLiveIds(ctx.db, ctx.orgId, 'groups', groupIds);
  Object.assign(set, await requestSettingsOf(ctx, input, before));
  let feedKey: string | null = null;
  if (set.mode === 'passive' && before.feedToken === null) {
    feedKey = newFeedKey();
    set.feedToken = newFeedToken();
    set.feedKeyHash = hashFeedKey(feedKey);
  }
  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `a knoc named ${JSON.stringify(set.name)} already exists`, () =>
      tx.db
        .update(knocs)
        .set({ ...set, updatedAt: tx.now() })
        .where(live(tx, id))
        .returning(),
    );
    if (!row) throw new NotFoundError('knoc', id);
    await replaceAssignments(tx.db, tx.orgId, id, userIds, groupIds);
    const found = await assignments(tx.db, [id]);
    const view = toView(row, found.users.get(id) ?? [], found.groups.get(id) ?? []);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'knoc.update',
      targetType: 'knoc',
      targetId: id,
      siteId: view.siteId,
      before: auditOf(before),
      after: auditOf(view),
    });
    return { knoc: view, feedKey, previous: { gatewayId: before.gatewayId, aliasName: before.aliasName } };
  });
}

/** Soft delete. The caller ends the knoc's open grants first (reason `revoked`). */
export async function deleteKnoc(ctx: ServiceContext, id: string): Promise<KnocView> {
  const before = await getKnoc(ctx, id);
  await inTransaction(ctx, async (tx) => {
    await tx.db.update(knocs).set({ deletedAt: tx.now(), feedToken: null }).where(live(tx, id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'knoc.delete',
      targetType: 'knoc',
      targetId: id,
      siteId: before.siteId,
      before: auditOf(before),
    });
  });
  return before;
}

/** New feed token and/or key for a passive knoc (one call); the key is returned once. */
export async function rotateFeed(
  ctx: ServiceContext,
  id: string,
  what: { token: boolean; key: boolean },
): Promise<{ feedToken: string; feedKey: string | null }> {
  const before = await getKnocRow(ctx, id);
  if (before.mode !== 'passive') throw new ConflictError('only a passive knoc has a feed to rotate');
  if (!what.token && !what.key) throw new ValidationError('key', 'rotate the token, the key, or both');
  const feedKey = what.key ? newFeedKey() : null;
  const feedToken = what.token || before.feedToken === null ? newFeedToken() : before.feedToken;
  await inTransaction(ctx, async (tx) => {
    await tx.db
      .update(knocs)
      .set({ feedToken, ...(feedKey ? { feedKeyHash: hashFeedKey(feedKey) } : {}), updatedAt: tx.now() })
      .where(live(tx, id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'knoc.feed_rotate',
      targetType: 'knoc',
      targetId: id,
      siteId: before.siteId,
      after: { token_rotated: what.token, key_rotated: what.key },
    });
  });
  return { feedToken, feedKey };
}

/** Ids of the live knocs assigned to `userId` directly or through one of their groups. */
export async function entitledKnocIds(db: Db, orgId: string, userId: string): Promise<string[]> {
  if (!isUuid(userId)) return [];
  const rows = await db
    .selectDistinct({ id: knocs.id })
    .from(knocs)
    .leftJoin(knocUsers, eq(knocUsers.knocId, knocs.id))
    .leftJoin(knocGroups, eq(knocGroups.knocId, knocs.id))
    .leftJoin(groupMembers, eq(groupMembers.groupId, knocGroups.groupId))
    .where(
      and(
        eq(knocs.orgId, orgId),
        isNull(knocs.deletedAt),
        or(eq(knocUsers.userId, userId), eq(groupMembers.userId, userId)),
      ),
    );
  return rows.map((row) => row.id);
}
