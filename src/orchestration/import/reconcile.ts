/**
 * @module Reconciliation without the wizard (`/api/v1/firewall/reconciliation/{site_id}/...`,
 * docs/reference/freesdn-firewall-module.md §18, docs/orchestration.md "Reconciliation", ADR 0273), on a site with
 * a role map:
 *
 * - `importFromBrain`: the brain's VLAN interfaces create or update canonical VLANs (name, description, subnets)
 *   through the canonical services — a VLAN the checks refuse is reported with the field, the others still go
 *   in — and canonical VLANs with a subnet that the brain does not have are flagged as **orphans** (never deleted:
 *   someone decides). `dry_run` makes the same calls in a transaction that is rolled back.
 * - `siteAlignment`: every device of the map read and compared with the canonical state (src/orchestration/import/compare.ts).
 * - `distributeToLimbs`: each canonical VLAN some limb does not carry goes through the distribution engine.
 */
import { eq } from 'drizzle-orm';
import { type ServiceContext, inTransaction } from '../../core/context.ts';
import { ConflictError, DeviceError, DomainError, NotFoundError, ValidationError } from '../../errors.ts';
import { orchestrationVlans } from '../../store/schema/orchestration.ts';
import { requireLiveSite } from '../canonical/fields.ts';
import { createVlan, updateVlan } from '../canonical/vlans.ts';
import { getTopology, type TopologyView } from '../topology.ts';
import { type AlignmentReport, alignmentReport, loadCanonical } from './compare.ts';
import { type DeviceInventory, readInventory } from './inventory.ts';
import type { DistributionOutcome, ImportDeps } from './session.ts';

async function roleMap(ctx: ServiceContext, siteId: string): Promise<TopologyView & { brain: NonNullable<TopologyView['brain']> }> {
  const site = await requireLiveSite(ctx, siteId);
  try {
    const map = await getTopology(ctx, site);
    if (map.brain === null) throw new ConflictError(`site ${site} has no brain in its role map`);
    return map as TopologyView & { brain: NonNullable<TopologyView['brain']> };
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    throw new ConflictError(`site ${site} has no role map: set one (PUT /api/v1/firewall/topology/${site}) or run the import wizard`);
  }
}

const inventoryOf = (deps: Pick<ImportDeps, 'device'>, m: { gatewayId: string; name: string; vendor: string }) =>
  readInventory(deps, { id: m.gatewayId, name: m.name, vendor: m.vendor });

export interface ReconciliationImport {
  site_id: string;
  dry_run: boolean;
  created: number;
  updated: number;
  unchanged: number;
  vlans: Array<{ vlan_id: number; name: string; ipv4_subnet: string | null; ipv6_subnet: string | null; action: 'created' | 'updated' | 'unchanged' | 'refused' }>;
  errors: Array<{ vlan_id: number; field: string | null; message: string }>;
  orphaned: Array<{ canonical_vlan_id: string; vlan_id: number; name: string; ipv4_subnet: string | null; ipv6_subnet: string | null; reason: string }>;
}

class RollBack extends Error {
  constructor(readonly result: ReconciliationImport) {
    super('dry run');
  }
}

async function importVlans(ctx: ServiceContext, siteId: string, brain: DeviceInventory, dryRun: boolean): Promise<ReconciliationImport> {
  const result: ReconciliationImport = { site_id: siteId, dry_run: dryRun, created: 0, updated: 0, unchanged: 0, vlans: [], errors: [], orphaned: [] };
  const existing = await ctx.db.select().from(orchestrationVlans).where(eq(orchestrationVlans.siteId, siteId));
  for (const v of [...brain.vlans].sort((a, b) => a.vlan_id - b.vlan_id)) {
    const line = { vlan_id: v.vlan_id, name: v.name, ipv4_subnet: v.ipv4_subnet, ipv6_subnet: v.ipv6_subnet };
    const current = existing.find((e) => e.vlanId === v.vlan_id);
    try {
      // Each VLAN in its own savepoint: a refused one leaves no half-write, the others go on.
      const action = await inTransaction(ctx, async (tx) => {
        if (!current) {
          await createVlan(tx, { site_id: siteId, vlan_id: v.vlan_id, name: v.name, description: v.description, ipv4_subnet: v.ipv4_subnet, ipv6_subnet: v.ipv6_subnet });
          return 'created' as const;
        }
        const same = current.name === v.name && current.ipv4Subnet === v.ipv4_subnet && current.ipv6Subnet === v.ipv6_subnet && (v.description === '' || current.description === v.description);
        if (same) return 'unchanged' as const;
        await updateVlan(tx, current.id, { name: v.name, ipv4_subnet: v.ipv4_subnet, ipv6_subnet: v.ipv6_subnet, ...(v.description !== '' ? { description: v.description } : {}) });
        return 'updated' as const;
      });
      result[action]++;
      result.vlans.push({ ...line, action });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      result.vlans.push({ ...line, action: 'refused' });
      result.errors.push({ vlan_id: v.vlan_id, field: err.field ?? null, message: err.message });
    }
  }
  const onBrain = new Set(brain.vlans.map((v) => v.vlan_id));
  for (const c of existing) {
    if (onBrain.has(c.vlanId) || (c.ipv4Subnet === null && c.ipv6Subnet === null)) continue;
    result.orphaned.push({
      canonical_vlan_id: c.id,
      vlan_id: c.vlanId,
      name: c.name,
      ipv4_subnet: c.ipv4Subnet,
      ipv6_subnet: c.ipv6Subnet,
      reason: `canonical with a subnet, but the brain has no VLAN interface ${c.vlanId}`,
    });
  }
  return result;
}

/** Reads the brain's VLAN interfaces and fills the canonical VLANs from them; orphans are flagged, never deleted. */
export async function importFromBrain(
  ctx: ServiceContext,
  deps: Pick<ImportDeps, 'device'>,
  siteId: string,
  options: { dryRun?: boolean } = {},
): Promise<ReconciliationImport> {
  const map = await roleMap(ctx, siteId);
  const brain = await inventoryOf(deps, map.brain);
  if (!brain.reachable) throw new DeviceError(brain.error?.vendor_code ?? 'UNREACHABLE', `the brain ${brain.name} could not be read: ${brain.error?.message ?? ''}`);
  if (brain.skipped.some((s) => s.capability === 'read.vlan_interfaces')) {
    throw new ConflictError(`the brain ${brain.name} (${brain.vendor}) cannot list its VLAN interfaces: ${brain.skipped.find((s) => s.capability === 'read.vlan_interfaces')?.reason ?? ''}`);
  }
  if (!options.dryRun) return inTransaction(ctx, (tx) => importVlans(tx, map.siteId, brain, false));
  try {
    await inTransaction(ctx, async (tx) => {
      throw new RollBack(await importVlans(tx, map.siteId, brain, true));
    });
  } catch (err) {
    if (err instanceof RollBack) return err.result;
    throw err;
  }
  throw new Error('unreachable: the dry run always rolls back');
}

/** Canonical state against every device of the role map, per resource and device. */
export async function siteAlignment(ctx: ServiceContext, deps: Pick<ImportDeps, 'device'>, siteId: string): Promise<AlignmentReport> {
  const map = await roleMap(ctx, siteId);
  const [brain, ...limbs] = await Promise.all([map.brain, ...map.limbs].map((m) => inventoryOf(deps, m)));
  return alignmentReport(map.siteId, await loadCanonical(ctx, map.siteId), brain as DeviceInventory, limbs);
}

export interface LimbDistribution {
  site_id: string;
  distributed: Array<{ vlan_id: number; canonical_vlan_id: string; limbs_missing: string[]; distribution: DistributionOutcome | null; error: { code: string; message: string } | null }>;
  skipped: Array<{ vlan_id: number; reason: string }>;
  /** Limbs that could not be read: their VLANs are not known, so they are left to the next run. */
  unreachable: Array<{ gateway_id: string; name: string; message: string }>;
}

/** Distributes every canonical VLAN (or those of `vlanIds`, 802.1Q tags) some reachable limb does not carry. */
export async function distributeToLimbs(
  ctx: ServiceContext,
  deps: ImportDeps,
  siteId: string,
  options: { vlanIds?: number[]; force?: boolean } = {},
): Promise<LimbDistribution> {
  const map = await roleMap(ctx, siteId);
  const canonical = await loadCanonical(ctx, map.siteId);
  const wanted = options.vlanIds ?? canonical.vlans.map((v) => v.vlanId);
  wanted.forEach((tag, i) => {
    if (!canonical.vlans.some((v) => v.vlanId === tag)) throw new ValidationError(`vlan_ids.${i}`, `vlan_ids.${i}: VLAN ${tag} is not canonical at this site`);
  });
  const limbs = await Promise.all(map.limbs.map((m) => inventoryOf(deps, m)));
  const result: LimbDistribution = { site_id: map.siteId, distributed: [], skipped: [], unreachable: [] };
  for (const limb of limbs.filter((l) => !l.reachable)) {
    result.unreachable.push({ gateway_id: limb.gateway_id, name: limb.name, message: limb.error?.message ?? 'unreachable' });
  }
  const readable = limbs.filter((l) => l.reachable);
  for (const tag of [...new Set(wanted)].sort((a, b) => a - b)) {
    const vlan = canonical.vlans.find((v) => v.vlanId === tag) as (typeof canonical.vlans)[number];
    const missing = readable.filter((l) => !l.bridge_vlans.some((b) => b.vlan_id === tag)).map((l) => l.gateway_id);
    if (readable.length === 0) {
      result.skipped.push({ vlan_id: tag, reason: 'no limb could be read' });
      continue;
    }
    if (missing.length === 0) {
      result.skipped.push({ vlan_id: tag, reason: 'every limb carries it' });
      continue;
    }
    const line = { vlan_id: tag, canonical_vlan_id: vlan.id, limbs_missing: missing };
    try {
      result.distributed.push({ ...line, distribution: await deps.distribute(ctx, { siteId: map.siteId, vlanId: vlan.id, force: options.force === true }), error: null });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      result.distributed.push({ ...line, distribution: null, error: { code: err.code, message: err.message } });
    }
  }
  return result;
}
