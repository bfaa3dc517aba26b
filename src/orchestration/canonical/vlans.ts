/**
 * @module Canonical VLANs (`/api/v1/firewall/vlans`, docs/reference/freesdn-firewall-module.md §14.1): the
 * site-wide definition of a VLAN, independent of any device. Rules, each a 400 naming the field: `vlan_id` 1-4094
 * and unique in its site, `name` unique in its site, `ipv4_subnet` / `ipv6_subnet` overlapping no other VLAN's
 * subnet of the site, and a subnet change must keep the VLAN's DHCP scopes inside it. Writes of one site are
 * serialised by a lock on the site row, so two concurrent creates cannot both pass the checks.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, ne } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { requireIdOrNotFound, requireName } from '../../core/validate.ts';
import { requireDescription } from '../../firewall/fields.ts';
import type { SiteScope } from '../../firewall/objects.ts';
import {
  orchestrationDhcpReservations,
  orchestrationDhcpScopes,
  orchestrationVlans,
} from '../../store/schema/orchestration.ts';
import { isHostOf, lockSite, optionalSubnet, overlaps, requireVlanId, siteScopedWhere, storedCidr, storedIp } from './fields.ts';

type VlanRow = typeof orchestrationVlans.$inferSelect;
export type VlanView = Omit<VlanRow, 'orgId'>;
type ScopeRow = typeof orchestrationDhcpScopes.$inferSelect;
type ReservationRow = typeof orchestrationDhcpReservations.$inferSelect;

export interface VlanDetail extends VlanView {
  dhcpScopes: Array<Omit<ScopeRow, 'orgId'> & { reservations: Array<Omit<ReservationRow, 'orgId'>> }>;
}

export interface VlanInput {
  vlan_id?: unknown;
  name?: unknown;
  description?: unknown;
  ipv4_subnet?: unknown;
  ipv6_subnet?: unknown;
}

function view<T extends { orgId: string }>(row: T): Omit<T, 'orgId'> {
  const { orgId: _org, ...rest } = row;
  return rest;
}

const SUBNET_FIELDS = [
  { field: 'ipv4_subnet', key: 'ipv4Subnet', family: 4 },
  { field: 'ipv6_subnet', key: 'ipv6Subnet', family: 6 },
] as const;

/** Checks a VLAN as it would be stored against the other VLANs of its site (`selfId`: the VLAN itself). */
async function checkAgainstSite(
  ctx: ServiceContext,
  candidate: Pick<VlanRow, 'siteId' | 'vlanId' | 'name' | 'ipv4Subnet' | 'ipv6Subnet'>,
  selfId: string | null,
): Promise<void> {
  const t = orchestrationVlans;
  const others = await ctx.db
    .select()
    .from(t)
    .where(and(eq(t.siteId, candidate.siteId), selfId ? ne(t.id, selfId) : undefined));
  for (const other of others) {
    if (other.vlanId === candidate.vlanId) {
      throw new ValidationError('vlan_id', `vlan_id ${candidate.vlanId} is already VLAN "${other.name}" of this site`);
    }
    if (other.name === candidate.name) {
      throw new ValidationError('name', `name "${candidate.name}" is already used by VLAN ${other.vlanId}`);
    }
    for (const { field, key } of SUBNET_FIELDS) {
      const mine = candidate[key];
      const theirs = other[key];
      if (mine && theirs && overlaps(storedCidr(mine), storedCidr(theirs))) {
        throw new ValidationError(field, `${field} ${mine} overlaps ${theirs} of VLAN ${other.vlanId} ("${other.name}")`);
      }
    }
  }
}

/** A subnet change must keep every DHCP scope of the VLAN, and every reservation of a scope, inside the new subnet. */
async function checkScopesStillFit(ctx: ServiceContext, vlan: VlanRow): Promise<void> {
  const scopes = await ctx.db.select().from(orchestrationDhcpScopes).where(eq(orchestrationDhcpScopes.canonicalVlanId, vlan.id));
  for (const scope of scopes) {
    const spec = SUBNET_FIELDS.find((s) => s.family === scope.ipVersion);
    if (!spec) continue;
    const subnet = vlan[spec.key];
    const fits =
      subnet !== null &&
      isHostOf(storedCidr(subnet), storedIp(scope.rangeStart)) &&
      isHostOf(storedCidr(subnet), storedIp(scope.rangeEnd));
    if (!fits) {
      throw new ValidationError(
        spec.field,
        `${spec.field} must keep the DHCP scope ${scope.rangeStart}-${scope.rangeEnd} inside it (change or delete the scope first)`,
      );
    }
    const reservations = await ctx.db.select().from(orchestrationDhcpReservations).where(eq(orchestrationDhcpReservations.scopeId, scope.id));
    const outside = reservations.find((r) => !isHostOf(storedCidr(subnet), storedIp(r.ipAddress)));
    if (outside) {
      throw new ValidationError(
        spec.field,
        `${spec.field} must keep the DHCP reservation ${outside.ipAddress} (${outside.mac}) inside it (delete the reservation first)`,
      );
    }
  }
}

function parseChanges(input: VlanInput): Partial<VlanRow> {
  const out: Partial<VlanRow> = {};
  if (input.vlan_id !== undefined) out.vlanId = requireVlanId('vlan_id', input.vlan_id);
  if (input.name !== undefined) out.name = requireName('name', input.name);
  if (input.description !== undefined) out.description = requireDescription('description', input.description);
  for (const { field, key, family } of SUBNET_FIELDS) {
    if (input[field] !== undefined) out[key] = optionalSubnet(field, input[field], family);
  }
  return out;
}

/** A restored row's identity: its id and times are kept (src/firewall/backup.ts). */
export interface Preset {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

export async function createVlan(
  ctx: ServiceContext,
  input: VlanInput & { site_id?: unknown },
  templateId: string | null = null,
  preset?: Preset,
): Promise<VlanView> {
  if (input.vlan_id === undefined) throw new ValidationError('vlan_id', 'vlan_id is required');
  if (input.name === undefined) throw new ValidationError('name', 'name is required');
  const fields = parseChanges(input);
  return inTransaction(ctx, async (tx) => {
    const siteId = await lockSite(tx, input.site_id, 'site_id');
    const row: VlanRow = {
      id: randomUUID(),
      orgId: tx.orgId,
      siteId,
      vlanId: fields.vlanId as number,
      name: fields.name as string,
      description: fields.description ?? '',
      ipv4Subnet: fields.ipv4Subnet ?? null,
      ipv6Subnet: fields.ipv6Subnet ?? null,
      templateId,
      createdAt: tx.now(),
      updatedAt: tx.now(),
      ...preset,
    };
    await checkAgainstSite(tx, row, null);
    await tx.db.insert(orchestrationVlans).values(row);
    const created = view(row);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'canonical_vlan.create',
      targetType: 'canonical_vlan',
      targetId: row.id,
      siteId,
      after: created,
    });
    return created;
  });
}

async function findVlan(ctx: ServiceContext, id: string): Promise<VlanRow> {
  requireIdOrNotFound('VLAN', id);
  const [row] = await ctx.db
    .select()
    .from(orchestrationVlans)
    .where(and(eq(orchestrationVlans.id, id.toLowerCase()), eq(orchestrationVlans.orgId, ctx.orgId)))
    .limit(1);
  if (!row) throw new NotFoundError('VLAN', id);
  return row;
}

export async function getVlan(ctx: ServiceContext, id: string): Promise<VlanView> {
  return view(await findVlan(ctx, id));
}

/** The VLAN with its DHCP scopes, each with its reservations (ordered by address). */
export async function getVlanDetail(ctx: ServiceContext, id: string): Promise<VlanDetail> {
  const vlan = await findVlan(ctx, id);
  const scopes = await ctx.db
    .select()
    .from(orchestrationDhcpScopes)
    .where(eq(orchestrationDhcpScopes.canonicalVlanId, vlan.id))
    .orderBy(asc(orchestrationDhcpScopes.ipVersion));
  const reservations =
    scopes.length === 0
      ? []
      : await ctx.db
          .select()
          .from(orchestrationDhcpReservations)
          .where(inArray(orchestrationDhcpReservations.scopeId, scopes.map((s) => s.id)))
          .orderBy(asc(orchestrationDhcpReservations.ipAddress));
  return {
    ...view(vlan),
    dhcpScopes: scopes.map((scope) => ({
      ...view(scope),
      reservations: reservations.filter((r) => r.scopeId === scope.id).map(view),
    })),
  };
}

export async function listVlans(
  ctx: ServiceContext,
  options: { scope: SiteScope; siteId?: string; limit?: number; offset?: number },
): Promise<VlanView[]> {
  const { limit, offset } = paging(options);
  const t = orchestrationVlans;
  const where = siteScopedWhere(ctx, t, options);
  if (where === null) return [];
  const rows = await ctx.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.siteId), asc(t.vlanId))
    .limit(limit)
    .offset(offset);
  return rows.map(view);
}

export async function updateVlan(ctx: ServiceContext, id: string, input: VlanInput): Promise<VlanView> {
  const changes = parseChanges(input);
  return inTransaction(ctx, async (tx) => {
    await lockSite(tx, (await findVlan(tx, id)).siteId);
    const before = await findVlan(tx, id);
    const after: VlanRow = { ...before, ...changes, updatedAt: tx.now() };
    await checkAgainstSite(tx, after, before.id);
    await checkScopesStillFit(tx, after);
    await tx.db.update(orchestrationVlans).set(after).where(eq(orchestrationVlans.id, before.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'canonical_vlan.update',
      targetType: 'canonical_vlan',
      targetId: before.id,
      siteId: before.siteId,
      before: view(before),
      after: view(after),
    });
    return view(after);
  });
}

/** Deletes the VLAN with its DHCP scopes and reservations. */
export async function deleteVlan(ctx: ServiceContext, id: string): Promise<void> {
  await inTransaction(ctx, async (tx) => {
    const before = await getVlanDetail(tx, id);
    await lockSite(tx, before.siteId);
    await tx.db.delete(orchestrationVlans).where(eq(orchestrationVlans.id, before.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'canonical_vlan.delete',
      targetType: 'canonical_vlan',
      targetId: before.id,
      siteId: before.siteId,
      before,
    });
  });
}
