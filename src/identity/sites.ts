/**
 * @module Sites: the unit of scoping. Role bindings may be limited to sites; site-scoped tables carry `site_id`.
 * Deleting is soft so history (audit, grants) keeps resolving the site, and the name becomes reusable.
 */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { sites } from '../store/schema/tenancy.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { createNamed, type NamedChanges, type NamedKind, type NamedView, updateNamed } from './named.ts';
import { paging } from '../core/paging.ts';
import { requireIdOrNotFound, requireUuid } from '../core/validate.ts';

type SiteView = NamedView;

const VIEW = {
  id: sites.id,
  name: sites.name,
  description: sites.description,
  createdAt: sites.createdAt,
  updatedAt: sites.updatedAt,
};

interface ListSitesOptions {
  limit?: number;
  offset?: number;
  /** Only these sites (the caller's scope): `'all'` or a list of ids. */
  scope?: 'all' | readonly string[];
}

const SITES: NamedKind = {
  type: 'site',
  auditsAsSite: true,
  insert: (tx, values) => tx.db.insert(sites).values({ orgId: tx.orgId, ...values }).returning(VIEW),
  update: (tx, id, changes) =>
    tx.db
      .update(sites)
      .set({ ...changes, updatedAt: tx.now() })
      .where(and(eq(sites.id, id), eq(sites.orgId, tx.orgId), isNull(sites.deletedAt)))
      .returning(VIEW),
  get: (tx, id) => getSite(tx, id),
};

export function createSite(ctx: ServiceContext, input: { name: string; description?: string }): Promise<SiteView> {
  return createNamed(ctx, SITES, input);
}

export async function getSite(ctx: ServiceContext, siteId: string): Promise<SiteView> {
  const id = requireIdOrNotFound('site', siteId);
  const [site] = await ctx.db
    .select(VIEW)
    .from(sites)
    .where(and(eq(sites.id, id), eq(sites.orgId, ctx.orgId), isNull(sites.deletedAt)))
    .limit(1);
  if (!site) throw new NotFoundError('site', siteId);
  return site;
}

export async function listSites(ctx: ServiceContext, options: ListSitesOptions = {}): Promise<SiteView[]> {
  const { limit, offset } = paging(options);
  const scope = options.scope ?? 'all';
  if (scope !== 'all' && scope.length === 0) return [];
  return ctx.db
    .select(VIEW)
    .from(sites)
    .where(
      and(
        eq(sites.orgId, ctx.orgId),
        isNull(sites.deletedAt),
        scope === 'all' ? undefined : inArray(sites.id, [...scope]),
      ),
    )
    .orderBy(asc(sites.name))
    .limit(limit)
    .offset(offset);
}

export function updateSite(ctx: ServiceContext, siteId: string, input: NamedChanges): Promise<SiteView> {
  return updateNamed(ctx, SITES, siteId, input);
}

export async function deleteSite(ctx: ServiceContext, siteId: string): Promise<void> {
  const id = requireIdOrNotFound('site', siteId);
  await inTransaction(ctx, async (tx) => {
    const before = await getSite(tx, id);
    await tx.db.update(sites).set({ deletedAt: tx.now(), updatedAt: tx.now() }).where(eq(sites.id, id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'site.delete',
      targetType: 'site',
      targetId: id,
      siteId: id,
      before,
    });
  });
}

/** Checks a list of site ids from input: UUIDs of live sites of this org, de-duplicated. */
export async function requireSiteIds(ctx: ServiceContext, field: string, value: unknown): Promise<string[]> {
  if (!Array.isArray(value)) throw new ValidationError(field, `${field} must be a list of site ids`);
  if (value.length === 0)
    throw new ValidationError(field, `${field} must list at least one site (omit it for all sites)`);
  if (value.length > 1000) throw new ValidationError(field, `${field} must list at most 1000 sites`);
  const ids = [...new Set(value.map((item, i) => requireUuid(`${field}.${i}`, item)))];
  const found = await ctx.db
    .select({ id: sites.id })
    .from(sites)
    .where(and(eq(sites.orgId, ctx.orgId), isNull(sites.deletedAt), inArray(sites.id, ids)));
  const known = new Set(found.map((row) => row.id));
  const missing = value.findIndex((item) => !known.has(String(item).toLowerCase()));
  if (missing >= 0)
    throw new ValidationError(`${field}.${missing}`, `site ${String(value[missing])} does not exist`);
  return ids;
}
