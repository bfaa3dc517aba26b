/**
 * @module Outbound webhooks (`/api/v1/webhooks`, docs/events.md): CRUD, the signing secret (random, shown once at
 * creation, stored as a keyring ciphertext `webhooks:<id>:secret_enc`), and the delivery log.
 *
 * Scope: a webhook names the sites whose events it receives (`site_ids`, or `null` for every site and org-wide
 * events) and the event types (empty: all). Whoever creates or changes it must hold `firewall.admin` on those
 * sites (on the whole org for `null`) and, for each type, the type's read permission there — so a webhook never
 * carries what its author could not see. Others' webhooks outside one's sites are 404.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, isNull, lt, type SQL } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import type { Permission } from '../identity/permissions.ts';
import { requireSiteIds } from '../identity/sites.ts';
import { paging } from '../core/paging.ts';
import { requireBoolean, requireIdOrNotFound, requireName, uniquely } from '../core/validate.ts';
import { checkGatewayHost, type HostAllowList, type HostResolver } from '../net/ssrf.ts';
import { aadForColumn, ENCRYPTED_COLUMNS } from '../secrets/registry.ts';
import { webhookDeliveries, webhooks } from '../store/schema/events.ts';
import { ALL_EVENT_TYPES, EVENT_TYPES, type EventType, isEventType } from './types.ts';

/** What the caller may do, as the route knows it (the principal's effective permissions). */
export interface WebhookAuthority {
  can(permission: Permission, siteId?: string): boolean;
}

export interface WebhookPolicy {
  allowHosts: HostAllowList;
  resolve?: HostResolver;
}

interface WebhookView {
  id: string;
  name: string;
  url: string;
  eventTypes: string[];
  siteIds: string[] | null;
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const registered = ENCRYPTED_COLUMNS.find((entry) => entry.column === webhooks.secretEnc);
if (registered === undefined) throw new Error('webhooks.secret_enc is missing from the encrypted-column registry');
export const SECRET_COLUMN = registered;

const VIEW = {
  id: webhooks.id,
  name: webhooks.name,
  url: webhooks.url,
  eventTypes: webhooks.eventTypes,
  siteIds: webhooks.siteIds,
  enabled: webhooks.enabled,
  consecutiveFailures: webhooks.consecutiveFailures,
  disabledAt: webhooks.disabledAt,
  disabledReason: webhooks.disabledReason,
  createdAt: webhooks.createdAt,
  updatedAt: webhooks.updatedAt,
};

const MANAGE: Permission = 'firewall.admin';

function eventTypesOf(value: unknown): EventType[] {
  if (!Array.isArray(value)) throw new ValidationError('event_types', 'event_types must be a list of event types');
  value.forEach((type, i) => {
    if (typeof type !== 'string' || !isEventType(type)) {
      throw new ValidationError(`event_types.${i}`, `${JSON.stringify(type)} is not an event type`);
    }
  });
  return [...new Set(value as EventType[])].sort();
}

/** The caller must manage webhooks on every site of the scope and see every event type it carries. */
function authorize(authority: WebhookAuthority, siteIds: string[] | null, types: readonly EventType[]): void {
  const sites = siteIds ?? [undefined];
  for (const site of sites) {
    if (!authority.can(MANAGE, site)) {
      throw new ForbiddenError(
        siteIds === null
          ? 'a webhook for every site needs firewall.admin on the whole organisation'
          : `a webhook for site ${site} needs firewall.admin there`,
      );
    }
    for (const type of types.length === 0 ? ALL_EVENT_TYPES : types) {
      const { permission } = EVENT_TYPES[type];
      if (!authority.can(permission, site)) {
        throw new ForbiddenError(`event type ${type} needs ${permission} on every site of the webhook`);
      }
    }
  }
}

/** Whether the caller may see this webhook at all (otherwise it is a 404). */
function visible(authority: WebhookAuthority, view: Pick<WebhookView, 'siteIds'>): boolean {
  return view.siteIds === null ? authority.can(MANAGE) : view.siteIds.every((s) => authority.can(MANAGE, s));
}

async function urlOf(value: unknown, policy: WebhookPolicy): Promise<string> {
  if (typeof value !== 'string' || value.length > 2048) {
    throw new ValidationError('url', 'url must be an http(s) URL of at most 2048 characters');
  }
  const url = value.trim();
  await checkGatewayHost(url, { allowHosts: policy.allowHosts, ...(policy.resolve ? { resolve: policy.resolve } : {}) });
  return url;
}

async function siteIdsOf(ctx: ServiceContext, value: unknown): Promise<string[] | null> {
  if (value === null || value === undefined) return null;
  return [...new Set(await requireSiteIds(ctx, 'site_ids', value))].sort();
}

interface WebhookInput {
  name?: unknown;
  url?: unknown;
  event_types?: unknown;
  site_ids?: unknown;
  enabled?: unknown;
}

/** Creates a webhook; the returned `secret` is the only time it is ever shown. */
export async function createWebhook(
  ctx: ServiceContext,
  authority: WebhookAuthority,
  input: WebhookInput,
  policy: WebhookPolicy,
): Promise<{ webhook: WebhookView; secret: string }> {
  const name = requireName('name', input.name);
  const url = await urlOf(input.url, policy);
  const eventTypes = eventTypesOf(input.event_types ?? []);
  const siteIds = await siteIdsOf(ctx, input.site_ids);
  const enabled = input.enabled === undefined ? true : requireBoolean('enabled', input.enabled);
  authorize(authority, siteIds, eventTypes);
  const id = randomUUID();
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `a webhook named ${JSON.stringify(name)} already exists`, () =>
      tx.db
        .insert(webhooks)
        .values({
          id,
          orgId: tx.orgId,
          name,
          url,
          eventTypes,
          siteIds,
          enabled,
          secretEnc: tx.keyring.seal(secret, aadForColumn(SECRET_COLUMN, id)),
          createdBy: tx.actor.id,
        })
        .returning(VIEW),
    );
    const webhook = row as WebhookView;
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'webhook.create',
      targetType: 'webhook',
      targetId: id,
      after: webhook,
    });
    return { webhook, secret };
  });
}

const live = (ctx: ServiceContext, id: string): SQL =>
  and(eq(webhooks.orgId, ctx.orgId), eq(webhooks.id, id), isNull(webhooks.deletedAt)) as SQL;

export async function getWebhook(ctx: ServiceContext, authority: WebhookAuthority, id: string): Promise<WebhookView> {
  requireIdOrNotFound('webhook', id);
  const [row] = await ctx.db.select(VIEW).from(webhooks).where(live(ctx, id)).limit(1);
  if (!row || !visible(authority, row)) throw new NotFoundError('webhook', id);
  return row;
}

export async function listWebhooks(
  ctx: ServiceContext,
  authority: WebhookAuthority,
  options: { limit?: number; offset?: number } = {},
): Promise<WebhookView[]> {
  const { limit, offset } = paging(options);
  const rows = await ctx.db
    .select(VIEW)
    .from(webhooks)
    .where(and(eq(webhooks.orgId, ctx.orgId), isNull(webhooks.deletedAt)))
    .orderBy(asc(webhooks.name));
  return rows.filter((row) => visible(authority, row)).slice(offset, offset + limit);
}

/** Changes a webhook; enabling it again clears its failure count and disabled state. */
export async function updateWebhook(
  ctx: ServiceContext,
  authority: WebhookAuthority,
  id: string,
  input: WebhookInput,
  policy: WebhookPolicy,
): Promise<WebhookView> {
  const before = await getWebhook(ctx, authority, id);
  const set: Partial<typeof webhooks.$inferInsert> = {};
  if (input.name !== undefined) set.name = requireName('name', input.name);
  if (input.url !== undefined) set.url = await urlOf(input.url, policy);
  if (input.event_types !== undefined) set.eventTypes = eventTypesOf(input.event_types);
  if (input.site_ids !== undefined) set.siteIds = await siteIdsOf(ctx, input.site_ids);
  if (input.enabled !== undefined) {
    set.enabled = requireBoolean('enabled', input.enabled);
    if (set.enabled) Object.assign(set, { consecutiveFailures: 0, disabledAt: null, disabledReason: null });
  }
  authorize(
    authority,
    set.siteIds !== undefined ? set.siteIds : before.siteIds,
    (set.eventTypes ?? before.eventTypes) as EventType[],
  );
  return inTransaction(ctx, async (tx) => {
    const [row] = await uniquely('name', `a webhook named ${JSON.stringify(set.name)} already exists`, () =>
      tx.db
        .update(webhooks)
        .set({ ...set, updatedAt: tx.now() })
        .where(live(tx, before.id))
        .returning(VIEW),
    );
    if (!row) throw new NotFoundError('webhook', id);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'webhook.update',
      targetType: 'webhook',
      targetId: before.id,
      before,
      after: row,
    });
    return row;
  });
}

export async function deleteWebhook(ctx: ServiceContext, authority: WebhookAuthority, id: string): Promise<void> {
  const before = await getWebhook(ctx, authority, id);
  await inTransaction(ctx, async (tx) => {
    await tx.db.update(webhooks).set({ deletedAt: tx.now(), enabled: false }).where(live(tx, before.id));
    await tx.db
      .update(webhookDeliveries)
      .set({ status: 'failed', error: 'webhook_deleted' })
      .where(and(eq(webhookDeliveries.webhookId, before.id), eq(webhookDeliveries.status, 'pending')));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'webhook.delete',
      targetType: 'webhook',
      targetId: before.id,
      before,
    });
  });
}

type DeliveryView = Omit<typeof webhookDeliveries.$inferSelect, 'orgId'>;

/** The delivery log of a webhook, newest first; `before` pages by id. */
export async function listDeliveries(
  ctx: ServiceContext,
  authority: WebhookAuthority,
  webhookId: string,
  options: { limit?: number; before?: number; status?: string } = {},
): Promise<DeliveryView[]> {
  const hook = await getWebhook(ctx, authority, webhookId);
  const { limit } = paging(options);
  const where: (SQL | undefined)[] = [eq(webhookDeliveries.webhookId, hook.id)];
  if (options.before !== undefined) where.push(lt(webhookDeliveries.id, options.before));
  if (options.status !== undefined) where.push(eq(webhookDeliveries.status, options.status));
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit);
  return rows.map(({ orgId: _org, ...rest }) => rest);
}
