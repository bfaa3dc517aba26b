/**
 * @module Canonical DNS host overrides (`/api/v1/firewall/dns/records`, docs/reference/freesdn-firewall-module.md
 * §14.1): `host`.`domain` resolves to `ip_address` at a site (an A or AAAA record by the address's family). The
 * same host, domain and address twice in a site is a 400 naming `ip_address`.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, ne } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { requireIdOrNotFound } from '../../core/validate.ts';
import { requireDescription } from '../../firewall/fields.ts';
import type { SiteScope } from '../../firewall/objects.ts';
import { formatIp } from '../../net/ip.ts';
import { orchestrationDnsRecords } from '../../store/schema/orchestration.ts';
import { lockSite, requireDomain, requireHostLabel, requireIpAddress, siteScopedWhere } from './fields.ts';
import type { Preset } from './vlans.ts';

type DnsRow = typeof orchestrationDnsRecords.$inferSelect;
export type DnsView = Omit<DnsRow, 'orgId'> & { recordType: 'A' | 'AAAA' };

function view(row: DnsRow): DnsView {
  const { orgId: _org, ...rest } = row;
  return { ...rest, recordType: row.ipAddress.includes(':') ? 'AAAA' : 'A' };
}

export interface DnsInput {
  host?: unknown;
  domain?: unknown;
  ip_address?: unknown;
  description?: unknown;
}

function parse(input: DnsInput): Partial<DnsRow> {
  const out: Partial<DnsRow> = {};
  if (input.host !== undefined) out.host = requireHostLabel('host', input.host);
  if (input.domain !== undefined) out.domain = requireDomain('domain', input.domain);
  if (input.ip_address !== undefined) out.ipAddress = formatIp(requireIpAddress('ip_address', input.ip_address));
  if (input.description !== undefined) out.description = requireDescription('description', input.description);
  return out;
}

async function checkUnique(ctx: ServiceContext, row: DnsRow): Promise<void> {
  const t = orchestrationDnsRecords;
  const [clash] = await ctx.db
    .select({ id: t.id })
    .from(t)
    .where(
      and(eq(t.siteId, row.siteId), eq(t.host, row.host), eq(t.domain, row.domain), eq(t.ipAddress, row.ipAddress), ne(t.id, row.id)),
    );
  if (clash) {
    throw new ValidationError('ip_address', `${row.host}.${row.domain} already resolves to ${row.ipAddress} at this site`);
  }
}

export async function createDnsRecord(
  ctx: ServiceContext,
  input: DnsInput & { site_id?: unknown },
  preset?: Preset,
): Promise<DnsView> {
  for (const field of ['host', 'domain', 'ip_address'] as const) {
    if (input[field] === undefined) throw new ValidationError(field, `${field} is required`);
  }
  const fields = parse(input);
  return inTransaction(ctx, async (tx) => {
    const siteId = await lockSite(tx, input.site_id, 'site_id');
    const row: DnsRow = {
      id: randomUUID(),
      orgId: tx.orgId,
      siteId,
      host: fields.host as string,
      domain: fields.domain as string,
      ipAddress: fields.ipAddress as string,
      description: fields.description ?? '',
      createdAt: tx.now(),
      updatedAt: tx.now(),
      ...preset,
    };
    await checkUnique(tx, row);
    await tx.db.insert(orchestrationDnsRecords).values(row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'dns_record.create',
      targetType: 'dns_record',
      targetId: row.id,
      siteId,
      after: view(row),
    });
    return view(row);
  });
}

async function findRecord(ctx: ServiceContext, id: string): Promise<DnsRow> {
  requireIdOrNotFound('DNS record', id);
  const [row] = await ctx.db
    .select()
    .from(orchestrationDnsRecords)
    .where(and(eq(orchestrationDnsRecords.id, id.toLowerCase()), eq(orchestrationDnsRecords.orgId, ctx.orgId)));
  if (!row) throw new NotFoundError('DNS record', id);
  return row;
}

export async function getDnsRecord(ctx: ServiceContext, id: string): Promise<DnsView> {
  return view(await findRecord(ctx, id));
}

export async function listDnsRecords(
  ctx: ServiceContext,
  options: { scope: SiteScope; siteId?: string; limit?: number; offset?: number },
): Promise<DnsView[]> {
  const { limit, offset } = paging(options);
  const t = orchestrationDnsRecords;
  const where = siteScopedWhere(ctx, t, options);
  if (where === null) return [];
  const rows = await ctx.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.domain), asc(t.host), asc(t.ipAddress), asc(t.id))
    .limit(limit)
    .offset(offset);
  return rows.map(view);
}

export async function updateDnsRecord(ctx: ServiceContext, id: string, input: DnsInput): Promise<DnsView> {
  const changes = parse(input);
  return inTransaction(ctx, async (tx) => {
    await lockSite(tx, (await findRecord(tx, id)).siteId);
    const before = await findRecord(tx, id);
    const after: DnsRow = { ...before, ...changes, updatedAt: tx.now() };
    await checkUnique(tx, after);
    await tx.db.update(orchestrationDnsRecords).set(after).where(eq(orchestrationDnsRecords.id, before.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'dns_record.update',
      targetType: 'dns_record',
      targetId: before.id,
      siteId: before.siteId,
      before: view(before),
      after: view(after),
    });
    return view(after);
  });
}

export async function deleteDnsRecord(ctx: ServiceContext, id: string): Promise<void> {
  await inTransaction(ctx, async (tx) => {
    const before = await findRecord(tx, id);
    await tx.db.delete(orchestrationDnsRecords).where(eq(orchestrationDnsRecords.id, before.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'dns_record.delete',
      targetType: 'dns_record',
      targetId: before.id,
      siteId: before.siteId,
      before: view(before),
    });
  });
}
