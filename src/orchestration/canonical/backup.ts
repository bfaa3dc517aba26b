/**
 * @module The orchestration part of the firewall module's backup (src/firewall/backup.ts, ADR 0244): role maps,
 * VLAN templates, canonical VLANs, DHCP scopes and reservations, DNS records — ids and times kept. Restore goes
 * through the same create services the API uses, in dependency order inside the restore's transaction, so every
 * check applies (VLAN ids, overlaps, scopes inside subnets, reservations unique) and a refusal names its entry,
 * e.g. `orchestration.vlans.2.ipv4_subnet`.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { ConflictError, ValidationError } from '../../errors.ts';
import type { ServiceContext } from '../../core/context.ts';
import { isUuid } from '../../core/validate.ts';
import {
  orchestrationDhcpReservations,
  orchestrationDhcpScopes,
  orchestrationDnsRecords,
  orchestrationTopologies,
  orchestrationTopologyMembers,
  orchestrationVlans,
  orchestrationVlanTemplates,
} from '../../store/schema/orchestration.ts';
import { putTopology } from '../topology.ts';
import { createReservation, createScope } from './dhcp.ts';
import { createDnsRecord } from './dns.ts';
import { createTemplate } from './templates.ts';
import { createVlan, type Preset } from './vlans.ts';

type Json = Record<string, unknown>;

export interface CanonicalBackup {
  topologies: Json[];
  vlan_templates: Json[];
  vlans: Json[];
  dhcp_scopes: Json[];
  dhcp_reservations: Json[];
  dns_records: Json[];
}

/** Restore order: templates before the VLANs made from them, VLANs before scopes before reservations. */
const SECTIONS = [
  { name: 'vlan_templates', table: orchestrationVlanTemplates },
  { name: 'vlans', table: orchestrationVlans },
  { name: 'dhcp_scopes', table: orchestrationDhcpScopes },
  { name: 'dhcp_reservations', table: orchestrationDhcpReservations },
  { name: 'dns_records', table: orchestrationDnsRecords },
] as const;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function toJson(row: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'orgId') continue;
    out[snake(key)] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

export async function exportCanonical(ctx: ServiceContext): Promise<CanonicalBackup> {
  const out: CanonicalBackup = {
    topologies: [],
    vlan_templates: [],
    vlans: [],
    dhcp_scopes: [],
    dhcp_reservations: [],
    dns_records: [],
  };
  for (const { name, table } of SECTIONS) {
    const t = table as PgTable & { orgId: PgColumn; id: PgColumn };
    const rows = (await ctx.db.select().from(t).where(eq(t.orgId, ctx.orgId)).orderBy(asc(t.id))) as Json[];
    out[name] = rows.map(toJson);
  }
  const topologies = await ctx.db
    .select()
    .from(orchestrationTopologies)
    .where(eq(orchestrationTopologies.orgId, ctx.orgId))
    .orderBy(asc(orchestrationTopologies.siteId));
  const members =
    topologies.length === 0
      ? []
      : await ctx.db
          .select()
          .from(orchestrationTopologyMembers)
          .where(inArray(orchestrationTopologyMembers.topologyId, topologies.map((t) => t.id)))
          .orderBy(asc(orchestrationTopologyMembers.role), asc(orchestrationTopologyMembers.gatewayId));
  out.topologies = topologies.map((t) => ({
    site_id: t.siteId,
    authority_map: t.authorityMap,
    assignments: members.filter((m) => m.topologyId === t.id).map((m) => ({ gateway_id: m.gatewayId, role: m.role })),
  }));
  return out;
}

/** The sites the canonical state belongs to (the backup carries them like the gateways' sites). */
export function canonicalSiteIds(backup: CanonicalBackup): string[] {
  const ids = [...backup.topologies, ...backup.vlans, ...backup.dns_records].map((row) => String(row.site_id));
  return [...new Set(ids)];
}

export function canonicalCounts(backup: CanonicalBackup): Record<string, number> {
  return Object.fromEntries(Object.entries(backup).map(([name, rows]) => [name, (rows as Json[]).length]));
}

function list(doc: Json, section: string): Json[] {
  const value = doc[section];
  const at = `orchestration.${section}`;
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError(at, `${at} must be a list`);
  if (value.length > 100_000) throw new ValidationError(at, `${at} has too many entries`);
  value.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ValidationError(`${at}.${i}`, `${at}.${i} must be an object`);
    }
  });
  return value as Json[];
}

function presetOf(item: Json, at: string): Preset {
  if (!isUuid(item.id)) throw new ValidationError(`${at}.id`, `${at}.id must be a UUID`);
  const date = (key: 'created_at' | 'updated_at') => {
    const value = typeof item[key] === 'string' ? new Date(item[key]) : null;
    if (!value || Number.isNaN(value.getTime())) throw new ValidationError(`${at}.${key}`, `${at}.${key} must be a date-time`);
    return value;
  };
  return { id: item.id.toLowerCase(), createdAt: date('created_at'), updatedAt: date('updated_at') };
}

/** Runs a create and re-labels its field error with the entry's path. */
async function entry<T>(at: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`${at}.${err.field}`, `${at}: ${err.message}`);
    throw err;
  }
}

/**
 * Restores the `orchestration` part of a backup on `tx` (the restore's transaction; sites and gateways are in
 * already). Ids must be new, as for the rest of the backup.
 */
export async function restoreCanonical(tx: ServiceContext, doc: unknown): Promise<Record<string, number>> {
  if (doc === undefined) return {};
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ValidationError('orchestration', 'orchestration must be an object');
  }
  const sections = doc as Json;
  const counts: Record<string, number> = {};
  for (const { name, table } of SECTIONS) {
    const items = list(sections, name);
    const presets = items.map((item, i) => presetOf(item, `orchestration.${name}.${i}`));
    const ids = presets.map((p) => p.id);
    if (ids.length > 0) {
      const t = table as PgTable & { id: PgColumn };
      const [hit] = await tx.db.select({ id: t.id }).from(t).where(inArray(t.id, ids)).limit(1);
      if (hit) throw new ConflictError(`${name} ${String(hit.id)} already exists; restore into an install without it`);
    }
    for (const [i, item] of items.entries()) {
      const at = `orchestration.${name}.${i}`;
      const preset = presets[i] as Preset;
      await entry(at, async () => {
        if (name === 'vlan_templates') await createTemplate(tx, item, preset);
        else if (name === 'vlans') {
          const templateId = item.template_id === null || item.template_id === undefined ? null : item.template_id;
          if (templateId !== null && !isUuid(templateId)) throw new ValidationError('template_id', 'template_id must be a UUID or null');
          await createVlan(tx, item, templateId, preset);
        } else if (name === 'dhcp_scopes') await createScope(tx, item, preset);
        else if (name === 'dhcp_reservations') await createReservation(tx, item, preset);
        else await createDnsRecord(tx, item, preset);
      });
    }
    counts[name] = items.length;
  }
  const topologies = list(sections, 'topologies');
  for (const [i, item] of topologies.entries()) {
    const at = `orchestration.topologies.${i}`;
    await entry(at, () => putTopology(tx, String(item.site_id), item));
  }
  counts.topologies = topologies.length;
  return counts;
}
