/**
 * @module Canonical DHCP scopes and reservations (`/api/v1/firewall/dhcp/...`,
 * docs/reference/freesdn-firewall-module.md §14.1). A scope is a pool of one VLAN (at most one per address family), its two ends
 * usable hosts of the VLAN's subnet of that family. A reservation pins a MAC to a usable host of the subnet its
 * scope serves, inside or outside the pool (as Kea and ISC dhcpd scope reservations to a subnet; ADR 0290, which
 * amends ADR 0242); within a scope each MAC and each address is reserved once. Every violation is a 400 naming the
 * field.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { record } from '../../audit/record.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { inTransaction, type ServiceContext } from '../../core/context.ts';
import { paging } from '../../core/paging.ts';
import { isUuid, requireIdOrNotFound } from '../../core/validate.ts';
import { requireDescription } from '../../firewall/fields.ts';
import type { SiteScope } from '../../firewall/objects.ts';
import { compareIp, formatIp } from '../../net/ip.ts';
import {
  orchestrationDhcpReservations,
  orchestrationDhcpScopes,
  orchestrationVlans,
} from '../../store/schema/orchestration.ts';
import {
  isHostOf,
  lockSite,
  requireHostLabel,
  requireIpAddress,
  requireLeaseSeconds,
  requireMac,
  storedCidr,
  siteScopedWhere,
} from './fields.ts';
import type { Preset } from './vlans.ts';

type ScopeRow = typeof orchestrationDhcpScopes.$inferSelect;
type ReservationRow = typeof orchestrationDhcpReservations.$inferSelect;

function view<T extends { orgId: string }>(row: T): Omit<T, 'orgId'> {
  const { orgId: _org, ...rest } = row;
  return rest;
}

async function audit(
  ctx: ServiceContext,
  action: string,
  target: { id: string; siteId: string },
  change: { before?: unknown; after?: unknown },
): Promise<void> {
  const targetType = action.split('.')[0] as string;
  await record(ctx.db, {
    orgId: ctx.orgId,
    actor: ctx.actor,
    action,
    targetType,
    targetId: target.id,
    siteId: target.siteId,
    ...change,
  });
}

/** The site a body's reference leads to, for the route's site check before anything is written. */
export async function siteOfVlan(ctx: ServiceContext, value: unknown, field: string): Promise<string> {
  if (!isUuid(value)) throw new ValidationError(field, `${field} must be a canonical VLAN id (UUID)`);
  const [row] = await ctx.db
    .select({ siteId: orchestrationVlans.siteId })
    .from(orchestrationVlans)
    .where(and(eq(orchestrationVlans.id, value.toLowerCase()), eq(orchestrationVlans.orgId, ctx.orgId)));
  if (!row) throw new ValidationError(field, `${field}: no such VLAN`);
  return row.siteId;
}

export async function siteOfScope(ctx: ServiceContext, value: unknown, field: string): Promise<string> {
  if (!isUuid(value)) throw new ValidationError(field, `${field} must be a DHCP scope id (UUID)`);
  const [row] = await ctx.db
    .select({ siteId: orchestrationDhcpScopes.siteId })
    .from(orchestrationDhcpScopes)
    .where(and(eq(orchestrationDhcpScopes.id, value.toLowerCase()), eq(orchestrationDhcpScopes.orgId, ctx.orgId)));
  if (!row) throw new ValidationError(field, `${field}: no such DHCP scope`);
  return row.siteId;
}

export interface ScopeInput {
  canonical_vlan_id?: unknown;
  range_start?: unknown;
  range_end?: unknown;
  lease_seconds?: unknown;
}

/** The VLAN's subnet of `family`, the network a scope of that family serves; null when the VLAN has none. */
function subnetOf(vlan: typeof orchestrationVlans.$inferSelect, family: 4 | 6): string | null {
  return family === 4 ? vlan.ipv4Subnet : vlan.ipv6Subnet;
}

/** The scope's two ends as checked on create and update: same family, in order, both usable hosts of the VLAN's subnet. */
function checkedRange(
  vlan: typeof orchestrationVlans.$inferSelect,
  start: ReturnType<typeof requireIpAddress>,
  end: ReturnType<typeof requireIpAddress>,
): void {
  if (end.family !== start.family) throw new ValidationError('range_end', 'range_end must be of the same family as range_start');
  if (compareIp(start, end) > 0) throw new ValidationError('range_end', 'range_end must not be before range_start');
  const subnetText = subnetOf(vlan, start.family);
  if (subnetText === null) {
    throw new ValidationError('range_start', `VLAN ${vlan.vlanId} has no IPv${start.family} subnet for this scope`);
  }
  const subnet = storedCidr(subnetText);
  for (const [field, address] of [['range_start', start], ['range_end', end]] as const) {
    if (!isHostOf(subnet, address)) {
      throw new ValidationError(field, `${field} ${formatIp(address)} is not a host address of ${subnetText}`);
    }
  }
}

export async function createScope(
  ctx: ServiceContext,
  input: ScopeInput,
  preset?: Preset,
): Promise<Omit<ScopeRow, 'orgId'>> {
  const siteId = await siteOfVlan(ctx, input.canonical_vlan_id, 'canonical_vlan_id');
  const start = requireIpAddress('range_start', input.range_start);
  const end = requireIpAddress('range_end', input.range_end);
  const leaseSeconds = input.lease_seconds === undefined ? 86_400 : requireLeaseSeconds('lease_seconds', input.lease_seconds);
  return inTransaction(ctx, async (tx) => {
    await lockSite(tx, siteId);
    const [vlan] = await tx.db
      .select()
      .from(orchestrationVlans)
      .where(eq(orchestrationVlans.id, String(input.canonical_vlan_id).toLowerCase()));
    if (!vlan) throw new ValidationError('canonical_vlan_id', 'canonical_vlan_id: no such VLAN');
    checkedRange(vlan, start, end);
    const [taken] = await tx.db
      .select({ id: orchestrationDhcpScopes.id })
      .from(orchestrationDhcpScopes)
      .where(and(eq(orchestrationDhcpScopes.canonicalVlanId, vlan.id), eq(orchestrationDhcpScopes.ipVersion, start.family)));
    if (taken) {
      throw new ValidationError('canonical_vlan_id', `VLAN ${vlan.vlanId} already has an IPv${start.family} DHCP scope`);
    }
    const row: ScopeRow = {
      id: randomUUID(),
      orgId: tx.orgId,
      siteId: vlan.siteId,
      canonicalVlanId: vlan.id,
      ipVersion: start.family,
      rangeStart: formatIp(start),
      rangeEnd: formatIp(end),
      leaseSeconds,
      createdAt: tx.now(),
      updatedAt: tx.now(),
      ...preset,
    };
    await tx.db.insert(orchestrationDhcpScopes).values(row);
    await audit(tx, 'dhcp_scope.create', row, { after: view(row) });
    return view(row);
  });
}

/**
 * Moves a scope's range (and lease time) with the create checks; its family stays. Reservations do not constrain
 * the range: they lie in the VLAN's subnet, which a range change does not move (ADR 0290).
 */
export async function updateScope(
  ctx: ServiceContext,
  id: string,
  input: Omit<ScopeInput, 'canonical_vlan_id'>,
): Promise<Omit<ScopeRow, 'orgId'>> {
  return inTransaction(ctx, async (tx) => {
    const before = await findScope(tx, id);
    await lockSite(tx, before.siteId);
    const start = requireIpAddress('range_start', input.range_start ?? before.rangeStart);
    const end = requireIpAddress('range_end', input.range_end ?? before.rangeEnd);
    if (start.family !== before.ipVersion) throw new ValidationError('range_start', `range_start must be an IPv${before.ipVersion} address (the scope's family)`);
    const leaseSeconds = input.lease_seconds === undefined ? before.leaseSeconds : requireLeaseSeconds('lease_seconds', input.lease_seconds);
    const [vlan] = await tx.db.select().from(orchestrationVlans).where(eq(orchestrationVlans.id, before.canonicalVlanId));
    if (!vlan) throw new Error(`scope ${before.id} has no VLAN`);
    checkedRange(vlan, start, end);
    const after: ScopeRow = { ...before, rangeStart: formatIp(start), rangeEnd: formatIp(end), leaseSeconds, updatedAt: tx.now() };
    await tx.db.update(orchestrationDhcpScopes).set(after).where(eq(orchestrationDhcpScopes.id, before.id));
    await audit(tx, 'dhcp_scope.update', after, { before: view(before), after: view(after) });
    return view(after);
  });
}

export async function listScopes(
  ctx: ServiceContext,
  options: { scope: SiteScope; siteId?: string; canonicalVlanId?: string; limit?: number; offset?: number },
): Promise<Array<Omit<ScopeRow, 'orgId'>>> {
  const { limit, offset } = paging(options);
  const t = orchestrationDhcpScopes;
  const where = siteScopedWhere(ctx, t, options);
  if (where === null) return [];
  if (options.canonicalVlanId) where.push(eq(t.canonicalVlanId, options.canonicalVlanId));
  const rows = await ctx.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.siteId), asc(t.rangeStart), asc(t.id))
    .limit(limit)
    .offset(offset);
  return rows.map(view);
}

async function findScope(ctx: ServiceContext, id: string): Promise<ScopeRow> {
  requireIdOrNotFound('DHCP scope', id);
  const [row] = await ctx.db
    .select()
    .from(orchestrationDhcpScopes)
    .where(and(eq(orchestrationDhcpScopes.id, id.toLowerCase()), eq(orchestrationDhcpScopes.orgId, ctx.orgId)));
  if (!row) throw new NotFoundError('DHCP scope', id);
  return row;
}

export async function getScope(ctx: ServiceContext, id: string): Promise<Omit<ScopeRow, 'orgId'>> {
  return view(await findScope(ctx, id));
}

/** Deletes a scope with its reservations. */
export async function deleteScope(ctx: ServiceContext, id: string): Promise<void> {
  await inTransaction(ctx, async (tx) => {
    const before = await findScope(tx, id);
    await lockSite(tx, before.siteId);
    await tx.db.delete(orchestrationDhcpScopes).where(eq(orchestrationDhcpScopes.id, before.id));
    await audit(tx, 'dhcp_scope.delete', before, { before: view(before) });
  });
}

export interface ReservationInput {
  scope_id?: unknown;
  mac?: unknown;
  ip_address?: unknown;
  hostname?: unknown;
  description?: unknown;
}

export async function createReservation(
  ctx: ServiceContext,
  input: ReservationInput,
  preset?: Preset,
): Promise<Omit<ReservationRow, 'orgId'>> {
  const siteId = await siteOfScope(ctx, input.scope_id, 'scope_id');
  const mac = requireMac('mac', input.mac);
  const address = requireIpAddress('ip_address', input.ip_address);
  const hostname = input.hostname === undefined || input.hostname === null ? null : requireHostLabel('hostname', input.hostname);
  const description = input.description === undefined ? '' : requireDescription('description', input.description);
  return inTransaction(ctx, async (tx) => {
    await lockSite(tx, siteId);
    const scope = await findScope(tx, String(input.scope_id));
    if (address.family !== scope.ipVersion) {
      throw new ValidationError('ip_address', `ip_address must be an IPv${scope.ipVersion} address (the scope's family)`);
    }
    const [vlan] = await tx.db.select().from(orchestrationVlans).where(eq(orchestrationVlans.id, scope.canonicalVlanId));
    const subnetText = vlan === undefined ? null : subnetOf(vlan, scope.ipVersion);
    if (subnetText === null) throw new Error(`scope ${scope.id} has no VLAN subnet`);
    if (!isHostOf(storedCidr(subnetText), address)) {
      throw new ValidationError(
        'ip_address',
        `ip_address ${formatIp(address)} is not a host address of the scope's subnet ${subnetText} (the network and broadcast addresses are not hosts)`,
      );
    }
    const ipAddress = formatIp(address);
    const existing = await tx.db
      .select()
      .from(orchestrationDhcpReservations)
      .where(eq(orchestrationDhcpReservations.scopeId, scope.id));
    const sameMac = existing.find((r) => r.mac === mac);
    if (sameMac) throw new ValidationError('mac', `mac ${mac} already has a reservation (${sameMac.ipAddress}) in this scope`);
    const sameIp = existing.find((r) => r.ipAddress === ipAddress);
    if (sameIp) throw new ValidationError('ip_address', `ip_address ${ipAddress} is already reserved for ${sameIp.mac}`);
    const row: ReservationRow = {
      id: randomUUID(),
      orgId: tx.orgId,
      siteId: scope.siteId,
      scopeId: scope.id,
      mac,
      ipAddress,
      hostname,
      description,
      createdAt: tx.now(),
      updatedAt: tx.now(),
      ...preset,
    };
    await tx.db.insert(orchestrationDhcpReservations).values(row);
    await audit(tx, 'dhcp_reservation.create', row, { after: view(row) });
    return view(row);
  });
}

export async function listReservations(
  ctx: ServiceContext,
  options: { scope: SiteScope; siteId?: string; scopeId?: string; limit?: number; offset?: number },
): Promise<Array<Omit<ReservationRow, 'orgId'>>> {
  const { limit, offset } = paging(options);
  const t = orchestrationDhcpReservations;
  const where = siteScopedWhere(ctx, t, options);
  if (where === null) return [];
  if (options.scopeId) where.push(eq(t.scopeId, options.scopeId));
  const rows = await ctx.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.scopeId), asc(t.ipAddress), asc(t.id))
    .limit(limit)
    .offset(offset);
  return rows.map(view);
}

async function findReservation(ctx: ServiceContext, id: string): Promise<ReservationRow> {
  requireIdOrNotFound('DHCP reservation', id);
  const [row] = await ctx.db
    .select()
    .from(orchestrationDhcpReservations)
    .where(and(eq(orchestrationDhcpReservations.id, id.toLowerCase()), eq(orchestrationDhcpReservations.orgId, ctx.orgId)));
  if (!row) throw new NotFoundError('DHCP reservation', id);
  return row;
}

export async function getReservation(ctx: ServiceContext, id: string): Promise<Omit<ReservationRow, 'orgId'>> {
  return view(await findReservation(ctx, id));
}

export async function deleteReservation(ctx: ServiceContext, id: string): Promise<void> {
  await inTransaction(ctx, async (tx) => {
    const before = await findReservation(tx, id);
    await tx.db.delete(orchestrationDhcpReservations).where(eq(orchestrationDhcpReservations.id, before.id));
    await audit(tx, 'dhcp_reservation.delete', before, { before: view(before) });
  });
}
