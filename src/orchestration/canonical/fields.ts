/**
 * @module Input checks of the canonical state (docs/orchestration.md): VLAN ids, subnets, addresses, MAC
 * addresses, DNS labels. Each failure is a `ValidationError` naming the API field. Also the per-site lock every
 * canonical write takes, so "unique per site" and "no overlap" checks see every committed neighbour.
 */
import { and, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { ServiceContext } from '../../core/context.ts';
import { isUuid, requireString } from '../../core/validate.ts';
import {
  cidrBounds,
  type Cidr,
  cidrContains,
  formatCidr,
  type IpAddress,
  parseCidrResult,
  parseIp,
} from '../../net/ip.ts';
import type { SiteScope } from '../../firewall/objects.ts';
import { sites } from '../../store/schema/tenancy.ts';

export const VLAN_ID_MIN = 1;
export const VLAN_ID_MAX = 4094;

export function requireVlanId(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < VLAN_ID_MIN || value > VLAN_ID_MAX) {
    throw new ValidationError(field, `${field} must be an integer from ${VLAN_ID_MIN} to ${VLAN_ID_MAX}`);
  }
  return value;
}

/** A subnet of the given family, host bits clear (`10.0.0.1/24` is refused, naming the network). */
export function requireSubnet(field: string, value: unknown, family: 4 | 6): Cidr {
  const text = requireString(field, value, { max: 64 });
  const parsed = parseCidrResult(text, { strict: true, allowBareAddress: false });
  if (!parsed.ok) throw new ValidationError(field, `${field}: ${parsed.reason}`);
  if (parsed.cidr.family !== family) throw new ValidationError(field, `${field} must be an IPv${family} prefix`);
  const shortest = family === 4 ? 8 : 32;
  const longest = family === 4 ? 30 : 126;
  if (parsed.cidr.prefix < shortest || parsed.cidr.prefix > longest) {
    throw new ValidationError(field, `${field} prefix length must be from /${shortest} to /${longest}`);
  }
  return parsed.cidr;
}

export function optionalSubnet(field: string, value: unknown, family: 4 | 6): string | null {
  return value === null || value === undefined ? null : formatCidr(requireSubnet(field, value, family));
}

export function requireIpAddress(field: string, value: unknown): IpAddress {
  const text = requireString(field, value, { max: 64 });
  const address = parseIp(text);
  if (address === null || (address.family === 6 && address.zone !== undefined)) {
    throw new ValidationError(field, `${field} must be an IPv4 or IPv6 address`);
  }
  return address;
}

/** Whether two prefixes share an address (same family only; one contains the other or they are equal). */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** Whether `address` is a usable host of `subnet`: not the network address, nor the IPv4 broadcast. */
export function isHostOf(subnet: Cidr, address: IpAddress): boolean {
  if (!cidrContains(subnet, address)) return false;
  const { first, last } = cidrBounds(subnet);
  if (address.value === first) return false;
  return !(subnet.family === 4 && address.value === last);
}

const MAC = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;

/** `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`-free forms: colon, dash or bare hex; stored lower case with colons. */
export function requireMac(field: string, value: unknown): string {
  const text = requireString(field, value, { max: 17 });
  if (!MAC.test(text)) throw new ValidationError(field, `${field} must be a MAC address like 00:11:22:33:44:55`);
  const hex = text.replace(/[:-]/g, '').toLowerCase();
  if (hex === '000000000000' || hex === 'ffffffffffff' || (parseInt(hex.slice(0, 2), 16) & 1) === 1) {
    throw new ValidationError(field, `${field} must be a unicast MAC address`);
  }
  return hex.match(/../g)?.join(':') ?? hex;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** One DNS label (a host name without its domain). */
export function requireHostLabel(field: string, value: unknown): string {
  const text = requireString(field, value, { max: 63 });
  if (!LABEL.test(text)) throw new ValidationError(field, `${field} must be one DNS label (letters, digits, -)`);
  return text.toLowerCase();
}

/** A DNS domain: dot-separated labels, at most 253 characters, no trailing dot. */
export function requireDomain(field: string, value: unknown): string {
  const text = requireString(field, value, { max: 253 });
  if (!text.split('.').every((label) => LABEL.test(label))) {
    throw new ValidationError(field, `${field} must be a DNS domain such as home.arpa`);
  }
  return text.toLowerCase();
}

export function requireLeaseSeconds(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 60 || value > 31_536_000) {
    throw new ValidationError(field, `${field} must be an integer from 60 to 31536000 seconds`);
  }
  return value;
}

/** Parses stored canonical CIDR text (written by this module, so always valid). */
export function storedCidr(text: string): Cidr {
  const parsed = parseCidrResult(text);
  if (!parsed.ok) throw new Error(`stored prefix ${text} does not parse`);
  return parsed.cidr;
}

export function storedIp(text: string): IpAddress {
  const address = parseIp(text);
  if (address === null) throw new Error(`stored address ${text} does not parse`);
  return address;
}

/**
 * The live site `siteId` of the org; `field` set: a body's `site_id`, so a missing site is a 400 naming it (a
 * path's site is a 404). With `forUpdate` the site row stays locked to the end of the transaction: canonical
 * writes of one site then run one after the other, so uniqueness and overlap checks see every neighbour.
 */
export async function requireLiveSite(
  ctx: ServiceContext,
  siteId: unknown,
  options: { field?: string; forUpdate?: boolean } = {},
): Promise<string> {
  const { field } = options;
  const missing = () =>
    field ? new ValidationError(field, `${field}: no such site`) : new NotFoundError('site', String(siteId));
  if (!isUuid(siteId)) throw missing();
  const query = ctx.db
    .select({ id: sites.id })
    .from(sites)
    .where(and(eq(sites.id, siteId.toLowerCase()), eq(sites.orgId, ctx.orgId), isNull(sites.deletedAt)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  if (!row) throw missing();
  return row.id;
}

/** `requireLiveSite` with the row lock; call inside the write's transaction. */
export function lockSite(ctx: ServiceContext, siteId: unknown, field?: string): Promise<string> {
  return requireLiveSite(ctx, siteId, { forUpdate: true, ...(field ? { field } : {}) });
}

/**
 * The conditions every canonical list starts from: the caller's organisation, the sites it may see and the site
 * asked for; null when it may see no site at all (the list is then empty without a query).
 */
export function siteScopedWhere(
  ctx: ServiceContext,
  t: { orgId: PgColumn; siteId: PgColumn },
  options: { scope: SiteScope; siteId?: string },
): (SQL | undefined)[] | null {
  if (options.scope !== 'all' && options.scope.length === 0) return null;
  const where: (SQL | undefined)[] = [eq(t.orgId, ctx.orgId)];
  if (options.scope !== 'all') where.push(inArray(t.siteId, [...options.scope]));
  if (options.siteId) where.push(eq(t.siteId, options.siteId));
  return where;
}
