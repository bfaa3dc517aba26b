/**
 * @module Step 3 (scan) and what steps 4 and 5 do with its resources (docs/orchestration.md "Brownfield import",
 * ADR 0272): the scan groups the per-device comparison into one resource per canonical key, and a decision per
 * resource — `adopt`, `merge`, `skip`, `ignore` — becomes changes of the canonical state made through the
 * canonical services themselves (so an adopted resource passes exactly the checks an API create or update does,
 * one validator per field) and the list of VLANs to distribute to the devices that lack them.
 *
 * - `adopt`: the resource becomes managed. The brain is the L3 authority, so a resource on the brain that is not
 *   canonical is created from it and one that differs takes the brain's values; a canonical resource missing on a
 *   device is distributed to it. A VLAN only a limb carries becomes an L2-only canonical VLAN.
 * - `merge` (only where both sides hold the resource and differ): canonical values win where set, the device fills
 *   the gaps (a subnet, a description, a host name, more DNS addresses); the devices then get the result.
 * - `skip`: nothing now; the resource shows again in the verification and later alignments.
 * - `ignore`: nothing, and the verification does not count it against the import.
 */
import { and, eq } from 'drizzle-orm';
import { type ServiceContext, inTransaction } from '../../core/context.ts';
import { DomainError, ValidationError } from '../../errors.ts';
import { orchestrationDhcpReservations, orchestrationDhcpScopes, orchestrationDnsRecords, orchestrationVlans } from '../../store/schema/orchestration.ts';
import { createReservation, createScope, deleteReservation, updateScope } from '../canonical/dhcp.ts';
import { createDnsRecord, deleteDnsRecord } from '../canonical/dns.ts';
import { storedCidr } from '../canonical/fields.ts';
import { createVlan, updateVlan } from '../canonical/vlans.ts';
import { cidrContains, parseIp } from '../../net/ip.ts';
import {
  type AlignmentStatus,
  type CanonicalSnapshot,
  compareBrain,
  compareLimb,
  dnsKey,
  expectedOf,
  reservationKey,
  scopeKey,
  vlanKey,
} from './compare.ts';
import type { DeviceBridgeVlan, DeviceDhcpScope, DeviceDnsRecord, DeviceInventory, DeviceReservation, DeviceVlan } from './inventory.ts';

export const DECISIONS = ['adopt', 'skip', 'merge', 'ignore'] as const;
export type Decision = (typeof DECISIONS)[number];
export type ScanKind = 'vlan' | 'dhcp_scope' | 'dhcp_reservation' | 'dns_record';

export interface ScanResource {
  key: string;
  kind: ScanKind;
  name: string;
  vlan_id: number | null;
  /** The brain's view, with the limbs folded in for a VLAN (a limb lacking it makes an aligned VLAN `missing`). */
  status: AlignmentStatus;
  /** Where the device values come from: the brain, a limb (a VLAN only limbs carry) or none (canonical only). */
  source: 'brain' | 'limb' | 'canonical';
  canonical: Record<string, unknown> | null;
  device: Record<string, unknown> | null;
  differences: string[];
  /** For a VLAN: whether each limb's bridges carry it. */
  limbs: Array<{ gateway_id: string; name: string; carries: boolean }>;
  decisions: Decision[];
  suggested: Decision;
}

const ALLOWED: Record<Exclude<AlignmentStatus, 'error'>, Decision[]> = {
  aligned: ['adopt', 'skip', 'ignore'],
  extra: ['adopt', 'skip', 'ignore'],
  missing: ['adopt', 'skip', 'ignore'],
  modified: ['adopt', 'merge', 'skip', 'ignore'],
};

/** The full device object behind each brain key, kept for adoption (the comparison holds only compared fields). */
function brainObjects(brain: DeviceInventory): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const v of brain.vlans) out.set(vlanKey(v.vlan_id), { ...v });
  for (const s of brain.dhcp_scopes) out.set(scopeKey(s.vlan_id, 4), { ...s });
  for (const r of brain.dhcp_reservations) out.set(reservationKey(r.vlan_id, r.mac), { ...r });
  for (const d of brain.dns_records) {
    const key = dnsKey(d.host, d.domain);
    const seen = out.get(key) as DeviceDnsRecord | undefined;
    out.set(key, seen ? { ...seen, ip_addresses: [...new Set([...seen.ip_addresses, ...d.ip_addresses])].sort() } : { ...d });
  }
  return out;
}

/** Step 3: one resource per key, from the brain, the limbs and the canonical state. */
export function buildScan(snapshot: CanonicalSnapshot, brain: DeviceInventory, limbs: DeviceInventory[]): ScanResource[] {
  const expected = expectedOf(snapshot);
  const brainItems = compareBrain(expected, brain).filter((i) => i.kind !== 'device');
  const objects = brainObjects(brain);
  const byKey = new Map<string, ScanResource>();
  const carriedBy = (vlanId: number) =>
    limbs.map((l) => ({ gateway_id: l.gateway_id, name: l.name, carries: l.bridge_vlans.some((b) => b.vlan_id === vlanId) }));
  const add = (r: Omit<ScanResource, 'decisions' | 'suggested'>) => {
    const decisions = r.status === 'error' ? (['skip', 'ignore'] as Decision[]) : ALLOWED[r.status];
    byKey.set(r.key, { ...r, decisions, suggested: r.status === 'error' ? 'skip' : 'adopt' });
  };
  for (const item of brainItems) {
    const limbView = item.kind === 'vlan' && item.vlan_id !== null ? carriedBy(item.vlan_id) : [];
    const status: AlignmentStatus = item.status === 'aligned' && limbView.some((l) => !l.carries) ? 'missing' : item.status;
    add({
      key: item.key,
      kind: item.kind as ScanKind,
      name: item.name,
      vlan_id: item.vlan_id,
      status,
      source: item.actual ? 'brain' : 'canonical',
      canonical: item.expected,
      device: objects.get(item.key) ?? null,
      differences: item.differences,
      limbs: limbView,
    });
  }
  // VLANs the brain was not compared on: L2-only canonical VLANs and VLANs only limbs carry.
  for (const limb of limbs) {
    for (const item of compareLimb(snapshot, limb)) {
      if (item.kind !== 'vlan' || item.vlan_id === null || byKey.has(item.key)) continue;
      const limbView = carriedBy(item.vlan_id);
      const bridge = limb.bridge_vlans.find((b) => b.vlan_id === item.vlan_id);
      add({
        key: item.key,
        kind: 'vlan',
        name: item.name,
        vlan_id: item.vlan_id,
        status: item.status === 'extra' ? 'extra' : limbView.some((l) => !l.carries) ? 'missing' : 'aligned',
        source: item.status === 'extra' ? 'limb' : 'canonical',
        canonical: item.expected,
        device: bridge ? { ...bridge } : null,
        differences: [],
        limbs: limbView,
      });
    }
  }
  return [...byKey.values()].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.key.localeCompare(b.key, 'en', { numeric: true }));
}

const KIND_ORDER: ScanKind[] = ['vlan', 'dhcp_scope', 'dhcp_reservation', 'dns_record'];

/** Checks the shape of step 4's `decisions` against the scan: every key known, every decision allowed for it. */
export function parseDecisions(value: unknown, resources: ScanResource[], field: string): Map<string, Decision> {
  if (value === undefined) throw new ValidationError(field, `${field} is required: an object of resource key → ${DECISIONS.join(' | ')}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(field, `${field} must be an object of resource key → ${DECISIONS.join(' | ')}`);
  }
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const out = new Map<string, Decision>();
  for (const [key, decision] of Object.entries(value)) {
    const at = `${field}.${key}`;
    const resource = byKey.get(key);
    if (!resource) throw new ValidationError(at, `${at}: the scan found no resource ${key}`);
    if (!(DECISIONS as readonly unknown[]).includes(decision)) {
      throw new ValidationError(at, `${at} must be one of ${DECISIONS.join(', ')}`);
    }
    if (!resource.decisions.includes(decision as Decision)) {
      throw new ValidationError(
        at,
        `${at}: ${String(decision)} is not possible for a resource that is ${resource.status} (possible: ${resource.decisions.join(', ')})${decision === 'merge' ? '; merge needs the resource on both sides, different' : ''}`,
      );
    }
    out.set(key, decision as Decision);
  }
  return out;
}

/** The decision of every resource: the given one, else `skip`. */
export function decisionOf(decisions: ReadonlyMap<string, Decision>, key: string): Decision {
  return decisions.get(key) ?? 'skip';
}

export interface AdoptionOutcome {
  /** Canonical changes made, one line per change (`created vlan:20`, `updated dhcp_scope:20:4` …). */
  changes: Array<{ key: string; action: 'created' | 'updated' | 'replaced' | 'deleted' }>;
  /** Canonical VLANs (row id and tag) some device lacks or differs on after adoption: step 5 distributes them. */
  distribute: Array<{ canonical_vlan_id: string; vlan_id: number }>;
  /** Adopted resources distribution cannot carry (a DNS name in no canonical VLAN's subnet). */
  notes: string[];
}

/** A service refusal of one resource, re-aimed at its decision (the service's own field kept in the message). */
function refusal(field: string, key: string, err: unknown): never {
  if (err instanceof ValidationError) {
    throw new ValidationError(field, `${key} cannot be adopted: ${err.message} (canonical field ${err.field})`);
  }
  if (err instanceof DomainError && err.status === 409) throw new ValidationError(field, `${key} cannot be adopted: ${err.message}`);
  throw err;
}

const limbVlanName = (b: DeviceBridgeVlan) => (b.description.trim() !== '' ? b.description.trim().slice(0, 100) : `vlan${b.vlan_id}`);

/**
 * Makes the canonical changes the decisions call for, in `ctx` (the caller's transaction): VLANs first, then
 * scopes, reservations and DNS records, each looked up again by its natural key so a change since the scan is
 * seen. A refusal is a 400 on `<field>.<key>`.
 */
export async function adopt(
  ctx: ServiceContext,
  siteId: string,
  resources: ScanResource[],
  decisions: ReadonlyMap<string, Decision>,
  field: string,
): Promise<AdoptionOutcome> {
  const outcome: AdoptionOutcome = { changes: [], distribute: [], notes: [] };
  const toDistribute = new Set<number>();
  const vlanRow = async (tag: number) =>
    (await ctx.db.select().from(orchestrationVlans).where(and(eq(orchestrationVlans.siteId, siteId), eq(orchestrationVlans.vlanId, tag))))[0];
  const scopeRow = async (vlanRowId: string) =>
    (await ctx.db.select().from(orchestrationDhcpScopes).where(and(eq(orchestrationDhcpScopes.canonicalVlanId, vlanRowId), eq(orchestrationDhcpScopes.ipVersion, 4))))[0];
  const requireVlan = async (tag: number, key: string, at: string) => {
    const row = await vlanRow(tag);
    if (!row) throw new ValidationError(at, `${key} cannot be adopted: VLAN ${tag} is not canonical (adopt vlan:${tag} too)`);
    return row;
  };

  for (const r of resources) {
    const decision = decisionOf(decisions, r.key);
    if (decision !== 'adopt' && decision !== 'merge') continue;
    const at = `${field}.${r.key}`;
    const merge = decision === 'merge';
    try {
      switch (r.kind) {
        case 'vlan': {
          const tag = r.vlan_id as number;
          const current = await vlanRow(tag);
          if (r.source === 'brain') {
            const dev = r.device as unknown as DeviceVlan;
            if (!current) {
              await createVlan(ctx, { site_id: siteId, vlan_id: tag, name: dev.name, description: dev.description, ipv4_subnet: dev.ipv4_subnet, ipv6_subnet: dev.ipv6_subnet });
              outcome.changes.push({ key: r.key, action: 'created' });
            } else if (r.status === 'modified') {
              const changes = merge
                ? {
                    ...(current.ipv4Subnet === null && dev.ipv4_subnet !== null ? { ipv4_subnet: dev.ipv4_subnet } : {}),
                    ...(current.ipv6Subnet === null && dev.ipv6_subnet !== null ? { ipv6_subnet: dev.ipv6_subnet } : {}),
                    ...(current.description === '' && dev.description !== '' ? { description: dev.description } : {}),
                  }
                : { name: dev.name, ipv4_subnet: dev.ipv4_subnet, ipv6_subnet: dev.ipv6_subnet, ...(dev.description !== '' ? { description: dev.description } : {}) };
              if (Object.keys(changes).length > 0) {
                await updateVlan(ctx, current.id, changes);
                outcome.changes.push({ key: r.key, action: 'updated' });
              }
              if (merge) toDistribute.add(tag);
            }
          } else if (r.source === 'limb' && !current) {
            await createVlan(ctx, { site_id: siteId, vlan_id: tag, name: limbVlanName(r.device as unknown as DeviceBridgeVlan) });
            outcome.changes.push({ key: r.key, action: 'created' });
          }
          if (r.status === 'missing' || r.limbs.some((l) => !l.carries)) toDistribute.add(tag);
          break;
        }
        case 'dhcp_scope': {
          const tag = r.vlan_id as number;
          const vlan = await requireVlan(tag, r.key, at);
          const current = await scopeRow(vlan.id);
          const dev = r.device as unknown as DeviceDhcpScope | null;
          if (dev && !current) {
            await createScope(ctx, { canonical_vlan_id: vlan.id, range_start: dev.range_start, range_end: dev.range_end });
            outcome.changes.push({ key: r.key, action: 'created' });
          } else if (dev && current && !merge && (current.rangeStart !== dev.range_start || current.rangeEnd !== dev.range_end)) {
            await updateScope(ctx, current.id, { range_start: dev.range_start, range_end: dev.range_end });
            outcome.changes.push({ key: r.key, action: 'updated' });
          }
          if (r.status === 'missing' || merge) toDistribute.add(tag);
          break;
        }
        case 'dhcp_reservation': {
          const tag = r.vlan_id as number;
          const vlan = await requireVlan(tag, r.key, at);
          const scope = await scopeRow(vlan.id);
          if (!scope) throw new ValidationError(at, `${r.key} cannot be adopted: VLAN ${tag} has no canonical DHCP scope (adopt ${scopeKey(tag, 4)} too)`);
          const dev = r.device as unknown as DeviceReservation | null;
          const [current] = dev
            ? await ctx.db.select().from(orchestrationDhcpReservations).where(and(eq(orchestrationDhcpReservations.scopeId, scope.id), eq(orchestrationDhcpReservations.mac, dev.mac)))
            : [];
          if (dev && !current) {
            await createReservation(ctx, { scope_id: scope.id, mac: dev.mac, ip_address: dev.ip_address, hostname: dev.hostname, description: dev.description });
            outcome.changes.push({ key: r.key, action: 'created' });
          } else if (dev && current) {
            const wanted = merge
              ? { ip_address: current.ipAddress, hostname: current.hostname ?? dev.hostname, description: current.description || dev.description }
              : { ip_address: dev.ip_address, hostname: dev.hostname, description: dev.description };
            if (wanted.ip_address !== current.ipAddress || wanted.hostname !== current.hostname || wanted.description !== current.description) {
              await deleteReservation(ctx, current.id);
              await createReservation(ctx, { scope_id: scope.id, mac: dev.mac, ...wanted });
              outcome.changes.push({ key: r.key, action: 'replaced' });
            }
          }
          if (r.status === 'missing' || merge) toDistribute.add(tag);
          break;
        }
        case 'dns_record': {
          const dev = r.device as unknown as DeviceDnsRecord | null;
          const name = r.key.slice('dns_record:'.length);
          const rows = await ctx.db.select().from(orchestrationDnsRecords).where(eq(orchestrationDnsRecords.siteId, siteId));
          const current = rows.filter((d) => dnsKey(d.host, d.domain) === r.key);
          if (dev) {
            for (const ip of dev.ip_addresses) {
              if (current.some((c) => c.ipAddress === ip)) continue;
              await createDnsRecord(ctx, { site_id: siteId, host: dev.host, domain: dev.domain, ip_address: ip, description: dev.description });
              outcome.changes.push({ key: r.key, action: 'created' });
            }
            if (!merge) {
              for (const c of current.filter((c) => !dev.ip_addresses.includes(c.ipAddress))) {
                await deleteDnsRecord(ctx, c.id);
                outcome.changes.push({ key: r.key, action: 'deleted' });
              }
            }
          }
          if (r.status === 'missing' || merge) {
            const addresses = merge && dev ? [...new Set([...current.map((c) => c.ipAddress), ...dev.ip_addresses])] : current.map((c) => c.ipAddress);
            const tags = await vlansHolding(ctx, siteId, addresses);
            if (tags.length === 0) outcome.notes.push(`${name}: no canonical VLAN's subnet holds its addresses, so no distribution carries it`);
            for (const tag of tags) toDistribute.add(tag);
          }
          break;
        }
      }
    } catch (err) {
      refusal(at, r.key, err);
    }
  }
  for (const tag of [...toDistribute].sort((a, b) => a - b)) {
    const row = await vlanRow(tag);
    if (row) outcome.distribute.push({ canonical_vlan_id: row.id, vlan_id: tag });
  }
  return outcome;
}

/** Tags of the site's canonical VLANs whose subnet holds one of `addresses`. */
async function vlansHolding(ctx: ServiceContext, siteId: string, addresses: string[]): Promise<number[]> {
  const vlans = await ctx.db.select().from(orchestrationVlans).where(eq(orchestrationVlans.siteId, siteId));
  const tags = new Set<number>();
  for (const text of addresses) {
    const ip = parseIp(text);
    if (!ip) continue;
    for (const v of vlans) {
      const subnet = ip.family === 4 ? v.ipv4Subnet : v.ipv6Subnet;
      if (subnet !== null && cidrContains(storedCidr(subnet), ip)) tags.add(v.vlanId);
    }
  }
  return [...tags];
}

class DryRunDone extends Error {
  constructor(readonly outcome: AdoptionOutcome) {
    super('dry run');
  }
}

/** `adopt` in a transaction that is always rolled back: step 4 checks the decisions without changing anything. */
export async function dryRunAdoption(
  ctx: ServiceContext,
  siteId: string,
  resources: ScanResource[],
  decisions: ReadonlyMap<string, Decision>,
  field: string,
): Promise<AdoptionOutcome> {
  try {
    await inTransaction(ctx, async (tx) => {
      throw new DryRunDone(await adopt(tx, siteId, resources, decisions, field));
    });
  } catch (err) {
    if (err instanceof DryRunDone) return err.outcome;
    throw err;
  }
  throw new Error('unreachable: the dry run always rolls back');
}
