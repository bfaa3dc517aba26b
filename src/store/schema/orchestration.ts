/**
 * @module Gateway orchestration tables (issue 14, docs/orchestration.md; FreeSDN's `gateway` schema in our words,
 * docs/reference/freesdn-firewall-module.md §13-§14): the per-site role map (one brain, any number of limbs, the
 * authority map) and the canonical state a site should have whatever its devices run: VLANs, their DHCP scope
 * and reservations, DNS host overrides, and the org's VLAN templates.
 *
 * Canonical rows are deleted for real (a VLAN takes its scope and reservations with it): they describe intent,
 * the audit log keeps the history. Uniqueness the API reports as a 400 naming the field is checked by the
 * service under a per-site lock; the unique indexes below are the backstop.
 */
import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { gateways } from './access.ts';
import { orgRef, sites, timestamps } from './tenancy.ts';

const siteRef = () =>
  uuid('site_id')
    .notNull()
    .references(() => sites.id);

/** One role map per site; its members are in `orchestration_topology_members`. */
export const orchestrationTopologies = pgTable(
  'orchestration_topologies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    /** Resource → `brain` | `portcullis` | `limb`, every key present (defaults filled in on write). */
    authorityMap: jsonb('authority_map').notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex('orchestration_topologies_site_uq').on(t.siteId)],
);

export const orchestrationTopologyMembers = pgTable(
  'orchestration_topology_members',
  {
    orgId: orgRef(),
    /** The map's site, kept on the row so site scoping never needs a join (test/store/schema-tenancy.test.ts). */
    siteId: siteRef(),
    topologyId: uuid('topology_id')
      .notNull()
      .references(() => orchestrationTopologies.id, { onDelete: 'cascade' }),
    gatewayId: uuid('gateway_id')
      .notNull()
      .references(() => gateways.id),
    /** `brain` | `limb`. */
    role: text('role').notNull(),
  },
  (t) => [
    // A gateway has one role, in one site's map.
    uniqueIndex('orchestration_topology_members_gateway_uq').on(t.gatewayId),
    uniqueIndex('orchestration_topology_members_one_brain_uq').on(t.topologyId).where(sql`${t.role} = 'brain'`),
  ],
);

export const orchestrationVlans = pgTable(
  'orchestration_vlans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    /** 802.1Q id, 1-4094. */
    vlanId: integer('vlan_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** Canonical CIDR text (host bits clear), null for an L2-only VLAN. */
    ipv4Subnet: text('ipv4_subnet'),
    ipv6Subnet: text('ipv6_subnet'),
    /** The template it was instantiated from, if any (kept when the template goes). */
    templateId: uuid('template_id'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('orchestration_vlans_site_vlan_uq').on(t.siteId, t.vlanId),
    uniqueIndex('orchestration_vlans_site_name_uq').on(t.siteId, t.name),
    index('orchestration_vlans_org_idx').on(t.orgId),
  ],
);

export const orchestrationDhcpScopes = pgTable(
  'orchestration_dhcp_scopes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    canonicalVlanId: uuid('canonical_vlan_id')
      .notNull()
      .references(() => orchestrationVlans.id, { onDelete: 'cascade' }),
    /** 4 or 6: which of the VLAN's subnets the pool lies in. */
    ipVersion: integer('ip_version').notNull(),
    rangeStart: text('range_start').notNull(),
    rangeEnd: text('range_end').notNull(),
    leaseSeconds: integer('lease_seconds').notNull().default(86_400),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('orchestration_dhcp_scopes_vlan_family_uq').on(t.canonicalVlanId, t.ipVersion),
    index('orchestration_dhcp_scopes_org_idx').on(t.orgId, t.siteId),
  ],
);

export const orchestrationDhcpReservations = pgTable(
  'orchestration_dhcp_reservations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    scopeId: uuid('scope_id')
      .notNull()
      .references(() => orchestrationDhcpScopes.id, { onDelete: 'cascade' }),
    /** Lower-case, colon-separated. */
    mac: text('mac').notNull(),
    /** Canonical address text. */
    ipAddress: text('ip_address').notNull(),
    hostname: text('hostname'),
    description: text('description').notNull().default(''),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('orchestration_dhcp_reservations_mac_uq').on(t.scopeId, t.mac),
    uniqueIndex('orchestration_dhcp_reservations_ip_uq').on(t.scopeId, t.ipAddress),
    index('orchestration_dhcp_reservations_org_idx').on(t.orgId, t.siteId),
  ],
);

export const orchestrationDnsRecords = pgTable(
  'orchestration_dns_records',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    /** Host override: `host`.`domain` resolves to `ip_address` (A or AAAA by its family). */
    host: text('host').notNull(),
    domain: text('domain').notNull(),
    ipAddress: text('ip_address').notNull(),
    description: text('description').notNull().default(''),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('orchestration_dns_records_uq').on(t.siteId, t.host, t.domain, t.ipAddress),
    index('orchestration_dns_records_org_idx').on(t.orgId),
  ],
);

/** Org-level VLAN blueprints (IoT, guest, management …); applying one creates a canonical VLAN at a site. */
export const orchestrationVlanTemplates = pgTable(
  'orchestration_vlan_templates',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    vlanId: integer('vlan_id').notNull(),
    vlanName: text('vlan_name').notNull(),
    ipv4Subnet: text('ipv4_subnet'),
    ipv6Subnet: text('ipv6_subnet'),
    ...timestamps,
  },
  (t) => [uniqueIndex('orchestration_vlan_templates_name_uq').on(t.orgId, t.name)],
);

/**
 * A brownfield import session (docs/orchestration.md "Brownfield import", ADR 0270): six steps, each with the
 * payload it was given and the result it produced, kept in `steps` (`{"1": {...}, "2": {...}}`). Purged
 * `import_retention_days` after its last change. Sessions reference the site only: gateways named in a step are
 * ids inside the JSON, so deleting a gateway never breaks an old session.
 */
export const orchestrationImportSessions = pgTable(
  'orchestration_import_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    /** `in_progress` | `completed` | `cancelled` | `failed`. */
    status: text('status').notNull(),
    /** The step the session waits for (1-6); 6 with status `completed` when done. */
    currentStep: integer('current_step').notNull(),
    /** Per step number: `{name, status, payload, result, error, started_at, finished_at}`. */
    steps: jsonb('steps').notNull(),
    /** Who started it (a user id), null for the system. */
    createdBy: uuid('created_by'),
    ...timestamps,
  },
  (t) => [
    index('orchestration_import_sessions_site_idx').on(t.orgId, t.siteId),
    index('orchestration_import_sessions_updated_idx').on(t.updatedAt),
  ],
);
