/**
 * @module The site role map (`/api/v1/firewall/topology/{site_id}`, docs/reference/freesdn-firewall-module.md
 * §13, docs/orchestration.md): which gateways of a site orchestration uses and how — exactly one **brain** (the L3
 * authority) and any number of **limbs** (L2 devices) — and the `authority_map` saying who owns each kind of
 * resource. A map is only stored when it is valid; `validate` reports every problem of a proposed or the stored
 * map at once (a stored map can go bad later: a gateway deleted or moved to another site).
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { isUuid } from '../core/validate.ts';
import { gateways } from '../store/schema/access.ts';
import { orchestrationTopologies, orchestrationTopologyMembers } from '../store/schema/orchestration.ts';
import { lockSite, requireLiveSite } from './canonical/fields.ts';
import { missingCapabilities, ROLES, type Role } from './topology-roles.ts';

export const AUTHORITIES = ['brain', 'portcullis', 'limb'] as const;
type Authority = (typeof AUTHORITIES)[number];

/**
 * Who owns each resource kind by default (§13.2): the brain routes and serves (VLAN interfaces, DHCP, DNS,
 * rules, NAT, VPN), Portcullis itself owns the L2 VLAN plan, and limbs own their ports, SSIDs and PoE.
 */
export const DEFAULT_AUTHORITY_MAP = {
  vlan_interface: 'brain',
  dhcp: 'brain',
  dns: 'brain',
  firewall_rule: 'brain',
  nat: 'brain',
  vpn: 'brain',
  vlan_l2: 'portcullis',
  port_profile: 'limb',
  ssid: 'limb',
  poe: 'limb',
} as const satisfies Record<string, Authority>;

export type AuthorityMap = Record<keyof typeof DEFAULT_AUTHORITY_MAP, Authority>;
export const AUTHORITY_KEYS = Object.keys(DEFAULT_AUTHORITY_MAP) as Array<keyof AuthorityMap>;

export const MAX_MEMBERS = 256;

export interface Member {
  gatewayId: string;
  name: string;
  vendor: string;
  role: Role;
}

export interface TopologyView {
  siteId: string;
  brain: Member | null;
  limbs: Member[];
  authorityMap: AuthorityMap;
  createdAt: Date;
  updatedAt: Date;
}

export interface TopologyInput {
  assignments?: unknown;
  authority_map?: unknown;
}

export interface Problem {
  field: string;
  message: string;
}

interface Checked {
  members: Member[];
  authorityMap: AuthorityMap;
  problems: Problem[];
}

function parseAuthorityMap(value: unknown, problems: Problem[]): AuthorityMap {
  const map: AuthorityMap = { ...DEFAULT_AUTHORITY_MAP };
  if (value === undefined || value === null) return map;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ field: 'authority_map', message: 'authority_map must be an object' });
    return map;
  }
  for (const [key, authority] of Object.entries(value)) {
    const field = `authority_map.${key}`;
    if (!(AUTHORITY_KEYS as string[]).includes(key)) {
      problems.push({ field, message: `${field} is not a resource kind (one of ${AUTHORITY_KEYS.join(', ')})` });
    } else if (!(AUTHORITIES as readonly unknown[]).includes(authority)) {
      problems.push({ field, message: `${field} must be one of ${AUTHORITIES.join(', ')}` });
    } else {
      map[key as keyof AuthorityMap] = authority as Authority;
    }
  }
  return map;
}

/** Every problem of a proposed map for `siteId`: shapes, gateways of the site, roles, capabilities, one brain. */
async function check(ctx: ServiceContext, siteId: string, input: TopologyInput): Promise<Checked> {
  const problems: Problem[] = [];
  const authorityMap = parseAuthorityMap(input.authority_map, problems);
  const members: Member[] = [];
  const list = input.assignments;
  if (!Array.isArray(list)) {
    problems.push({ field: 'assignments', message: 'assignments must be a list of {gateway_id, role}' });
    return { members, authorityMap, problems };
  }
  if (list.length > MAX_MEMBERS) {
    problems.push({ field: 'assignments', message: `assignments must list at most ${MAX_MEMBERS} gateways` });
    return { members, authorityMap, problems };
  }
  const ids = list
    .map((item: unknown) => (item && typeof item === 'object' ? (item as Record<string, unknown>).gateway_id : undefined))
    .filter(isUuid)
    .map((id) => id.toLowerCase());
  const found =
    ids.length === 0
      ? []
      : await ctx.db
          .select({ id: gateways.id, siteId: gateways.siteId, name: gateways.name, vendor: gateways.vendor })
          .from(gateways)
          .where(and(eq(gateways.orgId, ctx.orgId), isNull(gateways.deletedAt), inArray(gateways.id, ids)));
  const byId = new Map(found.map((g) => [g.id, g]));
  const seen = new Map<string, number>();
  let brainAt: number | null = null;
  list.forEach((item: unknown, i) => {
    const at = `assignments.${i}`;
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push({ field: at, message: `${at} must be an object {gateway_id, role}` });
      return;
    }
    const { gateway_id: gatewayId, role } = item as Record<string, unknown>;
    if (!isUuid(gatewayId)) {
      problems.push({ field: `${at}.gateway_id`, message: `${at}.gateway_id must be a gateway id (UUID)` });
      return;
    }
    const gateway = byId.get(gatewayId.toLowerCase());
    if (!gateway || gateway.siteId !== siteId) {
      problems.push({ field: `${at}.gateway_id`, message: `${at}.gateway_id: no gateway ${gatewayId} at this site` });
      return;
    }
    const earlier = seen.get(gateway.id);
    if (earlier !== undefined) {
      problems.push({ field: `${at}.gateway_id`, message: `${at}.gateway_id: gateway is already assignments.${earlier}` });
      return;
    }
    seen.set(gateway.id, i);
    if (!(ROLES as readonly unknown[]).includes(role)) {
      problems.push({ field: `${at}.role`, message: `${at}.role must be one of ${ROLES.join(', ')}` });
      return;
    }
    const missing = missingCapabilities(gateway.vendor, role as Role);
    if (missing.length > 0) {
      problems.push({
        field: `${at}.role`,
        message: `${at}.role: gateway "${gateway.name}" (${gateway.vendor}) cannot be a ${String(role)}: it lacks capability ${missing.join(', ')}`,
      });
      return;
    }
    if (role === 'brain') {
      if (brainAt !== null) {
        problems.push({
          field: `${at}.role`,
          message: `${at}.role: a site has exactly one brain, and assignments.${brainAt} already is it`,
        });
        return;
      }
      brainAt = i;
    }
    members.push({ gatewayId: gateway.id, name: gateway.name, vendor: gateway.vendor, role: role as Role });
  });
  if (brainAt === null && !problems.some((p) => p.field.endsWith('.role'))) {
    problems.push({ field: 'assignments', message: 'assignments must name exactly one brain (none given)' });
  }
  return { members, authorityMap, problems };
}

function toView(siteId: string, members: Member[], authorityMap: AuthorityMap, times: { createdAt: Date; updatedAt: Date }): TopologyView {
  return {
    siteId,
    brain: members.find((m) => m.role === 'brain') ?? null,
    limbs: members.filter((m) => m.role === 'limb'),
    authorityMap,
    ...times,
  };
}

async function stored(ctx: ServiceContext, siteId: string) {
  const [topology] = await ctx.db
    .select()
    .from(orchestrationTopologies)
    .where(and(eq(orchestrationTopologies.siteId, siteId), eq(orchestrationTopologies.orgId, ctx.orgId)))
    .limit(1);
  if (!topology) return null;
  const members = await ctx.db
    .select({
      gatewayId: orchestrationTopologyMembers.gatewayId,
      role: orchestrationTopologyMembers.role,
      name: gateways.name,
      vendor: gateways.vendor,
    })
    .from(orchestrationTopologyMembers)
    .innerJoin(gateways, eq(gateways.id, orchestrationTopologyMembers.gatewayId))
    .where(eq(orchestrationTopologyMembers.topologyId, topology.id))
    .orderBy(gateways.name);
  const authorityMap = { ...DEFAULT_AUTHORITY_MAP, ...(topology.authorityMap as Partial<AuthorityMap>) };
  return { topology, members: members.map((m) => ({ ...m, role: m.role as Role })), authorityMap };
}

/** The site's role map; 404 when none is set. */
export async function getTopology(ctx: ServiceContext, siteId: string): Promise<TopologyView> {
  const site = await requireLiveSite(ctx, siteId);
  const found = await stored(ctx, site);
  if (!found) throw new NotFoundError('topology', siteId);
  return toView(site, found.members, found.authorityMap, found.topology);
}

/** Replaces the site's role map; the first problem is a 400 naming its field. */
export async function putTopology(ctx: ServiceContext, siteId: string, input: TopologyInput): Promise<TopologyView> {
  return inTransaction(ctx, async (tx) => {
    const site = await lockSite(tx, siteId);
    const checked = await check(tx, site, input);
    const [first] = checked.problems;
    if (first) throw new ValidationError(first.field, first.message);
    const before = await stored(tx, site);
    const now = tx.now();
    const [topology] = await tx.db
      .insert(orchestrationTopologies)
      .values({ orgId: tx.orgId, siteId: site, authorityMap: checked.authorityMap, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: orchestrationTopologies.siteId,
        set: { authorityMap: checked.authorityMap, updatedAt: now },
      })
      .returning();
    if (!topology) throw new Error('topology upsert returned no row');
    await tx.db.delete(orchestrationTopologyMembers).where(eq(orchestrationTopologyMembers.topologyId, topology.id));
    // A gateway leaves any other map it was in (it can only be in its own site's, but a moved gateway may linger).
    const gatewayIds = checked.members.map((m) => m.gatewayId);
    if (gatewayIds.length > 0) {
      await tx.db.delete(orchestrationTopologyMembers).where(inArray(orchestrationTopologyMembers.gatewayId, gatewayIds));
      await tx.db
        .insert(orchestrationTopologyMembers)
        .values(
          checked.members.map((m) => ({
            orgId: tx.orgId,
            siteId: site,
            topologyId: topology.id,
            gatewayId: m.gatewayId,
            role: m.role,
          })),
        );
    }
    const after = toView(site, checked.members, checked.authorityMap, topology);
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'topology.update',
      targetType: 'topology',
      targetId: site,
      siteId: site,
      before: before ? toView(site, before.members, before.authorityMap, before.topology) : null,
      after,
    });
    return after;
  });
}

export async function deleteTopology(ctx: ServiceContext, siteId: string): Promise<void> {
  await inTransaction(ctx, async (tx) => {
    const site = await lockSite(tx, siteId);
    const before = await stored(tx, site);
    if (!before) throw new NotFoundError('topology', siteId);
    await tx.db.delete(orchestrationTopologies).where(eq(orchestrationTopologies.id, before.topology.id));
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'topology.delete',
      targetType: 'topology',
      targetId: site,
      siteId: site,
      before: toView(site, before.members, before.authorityMap, before.topology),
    });
  });
}

/**
 * Every problem of `input` (when given) or of the stored map, without writing anything. The stored map is
 * checked as a fresh submission, so a gateway since deleted, moved or re-vendored shows up here.
 */
export async function validateTopology(
  ctx: ServiceContext,
  siteId: string,
  input?: TopologyInput,
): Promise<{ valid: boolean; problems: Problem[] }> {
  const site = await requireLiveSite(ctx, siteId);
  let proposal = input;
  if (proposal === undefined) {
    const found = await stored(ctx, site);
    if (!found) return { valid: false, problems: [{ field: 'assignments', message: 'this site has no role map' }] };
    proposal = {
      assignments: found.members.map((m) => ({ gateway_id: m.gatewayId, role: m.role })),
      authority_map: found.authorityMap,
    };
  }
  const { problems } = await check(ctx, site, proposal);
  return { valid: problems.length === 0, problems };
}
