/**
 * @module Firewall module tables (issue 9, FreeSDN's firewall schema in Portcullis's words, docs/firewall.md):
 * normalized rules, NAT rules, VPN tunnels, IDS alerts and traffic logs, the per-org module settings, the
 * interface and alias snapshots a sync fills, and the staged `pending_changes`.
 *
 * Every row belongs to one gateway (`device_id` → `gateways.id`; the spec's "device" is our gateway, ADR 0120)
 * and carries that gateway's `site_id` (a gateway never changes site, so the copy cannot drift) for site
 * scoping. Rows a sync brings keep the vendor's id (`vendor_*_id`) so a second sync updates them, and a row
 * gone from the device gets `device_deleted_at` rather than disappearing.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { gateways } from './access.ts';
import { orgRef, orgs, sites, timestamps, tz } from './tenancy.ts';

const siteRef = () =>
  uuid('site_id')
    .notNull()
    .references(() => sites.id);
const deviceRef = () =>
  uuid('device_id')
    .notNull()
    .references(() => gateways.id);
/** Sync bookkeeping shared by every table a gateway sync fills. */
const synced = {
  lastSyncedAt: tz('last_synced_at'),
  /** Set when a sync no longer finds the vendor object; cleared if it comes back. */
  deviceDeletedAt: tz('device_deleted_at'),
};

export const firewallRules = pgTable(
  'firewall_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    /** The device's id for the rule (pfSense: its tracker), null until deployed or synced. */
    vendorRuleId: text('vendor_rule_id'),
    /** `any`, an address, a CIDR or an alias name (canonical text). */
    sourceAddress: text('source_address').notNull().default('any'),
    /** `any`, a port or `low-high`. */
    sourcePort: text('source_port').notNull().default('any'),
    /** Interface / zone the rule applies to on the source side (pfSense: the interface). */
    sourceZone: text('source_zone'),
    destAddress: text('dest_address').notNull().default('any'),
    destPort: text('dest_port').notNull().default('any'),
    destZone: text('dest_zone'),
    /** `any` | `tcp` | `udp` | `tcp/udp` | `icmp` | `icmpv6` | `esp` | `ah` | `gre` | … */
    protocol: text('protocol').notNull().default('any'),
    /** `allow` | `deny` | `reject` | `log`. */
    action: text('action').notNull(),
    logEnabled: boolean('log_enabled').notNull().default(false),
    isEnabled: boolean('is_enabled').notNull().default(true),
    ruleOrder: integer('rule_order').notNull(),
    description: text('description').notNull().default(''),
    /** Read-only counter a sync fills; never settable through the API. */
    hitCount: bigint('hit_count', { mode: 'number' }).notNull().default(0),
    ...synced,
    ...timestamps,
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    index('firewall_rules_device_order_idx').on(t.deviceId, t.ruleOrder).where(sql`${t.deletedAt} is null`),
    index('firewall_rules_site_idx').on(t.orgId, t.siteId),
    uniqueIndex('firewall_rules_vendor_uq')
      .on(t.deviceId, t.vendorRuleId)
      .where(sql`${t.deletedAt} is null and ${t.vendorRuleId} is not null`),
  ],
);

export const firewallNatRules = pgTable(
  'firewall_nat_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    vendorRuleId: text('vendor_rule_id'),
    /** `snat` | `dnat` | `masquerade` | `redirect`. */
    natType: text('nat_type').notNull(),
    /** Interface the translation happens on (pfSense: `wan`, `lan`, …). */
    interface: text('interface'),
    protocol: text('protocol').notNull().default('any'),
    sourceAddress: text('source_address').notNull().default('any'),
    sourcePort: text('source_port').notNull().default('any'),
    destAddress: text('dest_address').notNull().default('any'),
    destPort: text('dest_port').notNull().default('any'),
    /** Where matching traffic is translated to (null for masquerade: the interface address). */
    translatedAddress: text('translated_address'),
    translatedPort: text('translated_port'),
    isEnabled: boolean('is_enabled').notNull().default(true),
    logEnabled: boolean('log_enabled').notNull().default(false),
    ruleOrder: integer('rule_order').notNull(),
    description: text('description').notNull().default(''),
    ...synced,
    ...timestamps,
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    index('firewall_nat_rules_device_idx').on(t.deviceId).where(sql`${t.deletedAt} is null`),
    index('firewall_nat_rules_site_idx').on(t.orgId, t.siteId),
    uniqueIndex('firewall_nat_rules_vendor_uq')
      .on(t.deviceId, t.natType, t.vendorRuleId)
      .where(sql`${t.deletedAt} is null and ${t.vendorRuleId} is not null`),
  ],
);

export const firewallVpnTunnels = pgTable(
  'firewall_vpn_tunnels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    vendorTunnelId: text('vendor_tunnel_id'),
    name: text('name').notNull(),
    /** `ipsec` | `openvpn` | `wireguard` | `l2tp`. */
    vpnType: text('vpn_type').notNull(),
    /** `up` | `down` | `error` (the stats buckets). */
    vpnStatus: text('vpn_status').notNull().default('down'),
    localAddress: text('local_address'),
    remoteAddress: text('remote_address'),
    localNetworks: text('local_networks').array().notNull().default(sql`'{}'::text[]`),
    remoteNetworks: text('remote_networks').array().notNull().default(sql`'{}'::text[]`),
    isEnabled: boolean('is_enabled').notNull().default(true),
    description: text('description').notNull().default(''),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
    statusChangedAt: tz('status_changed_at'),
    ...synced,
    ...timestamps,
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    index('firewall_vpn_tunnels_site_idx').on(t.orgId, t.siteId),
    uniqueIndex('firewall_vpn_tunnels_vendor_uq')
      .on(t.deviceId, t.vpnType, t.vendorTunnelId)
      .where(sql`${t.deletedAt} is null and ${t.vendorTunnelId} is not null`),
  ],
);

/** IDS/IPS alerts (filled by sync; history, so no soft delete — retention prunes them). */
export const firewallIdsAlerts = pgTable(
  'firewall_ids_alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    vendorAlertId: text('vendor_alert_id'),
    /** `critical` | `high` | `medium` | `low` | `info`. */
    severity: text('severity').notNull(),
    signatureId: bigint('signature_id', { mode: 'number' }),
    signature: text('signature').notNull(),
    category: text('category'),
    protocol: text('protocol'),
    sourceIp: text('source_ip'),
    sourcePort: integer('source_port'),
    destIp: text('dest_ip'),
    destPort: integer('dest_port'),
    /** `alert` (detected) | `blocked` (prevented). */
    actionTaken: text('action_taken').notNull().default('alert'),
    occurredAt: tz('occurred_at').notNull(),
    acknowledged: boolean('acknowledged').notNull().default(false),
    acknowledgedAt: tz('acknowledged_at'),
    acknowledgedBy: uuid('acknowledged_by'),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('firewall_ids_alerts_org_time_idx').on(t.orgId, t.occurredAt),
    index('firewall_ids_alerts_unack_idx').on(t.orgId).where(sql`${t.acknowledged} = false`),
    uniqueIndex('firewall_ids_alerts_vendor_uq')
      .on(t.deviceId, t.vendorAlertId)
      .where(sql`${t.vendorAlertId} is not null`),
  ],
);

/** Parsed traffic log lines (pfSense filterlog), pruned after `log_retention_days`. */
export const firewallLogs = pgTable(
  'firewall_logs',
  {
    /** Monotonic, so it doubles as a stable sort key for equal times. */
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    loggedAt: tz('logged_at').notNull(),
    /** `pass` | `block` | `reject` (pfSense filterlog actions). */
    action: text('action').notNull(),
    interface: text('interface'),
    /** `in` | `out`. */
    direction: text('direction'),
    ipVersion: integer('ip_version'),
    protocol: text('protocol'),
    sourceIp: text('source_ip'),
    sourcePort: integer('source_port'),
    destIp: text('dest_ip'),
    destPort: integer('dest_port'),
    /** The rule's tracker (vendor_rule_id of the matching rule). */
    vendorRuleId: text('vendor_rule_id'),
    reason: text('reason'),
    length: integer('length'),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('firewall_logs_org_time_idx').on(t.orgId, t.loggedAt),
    index('firewall_logs_device_time_idx').on(t.deviceId, t.loggedAt),
  ],
);

/** Module settings, one JSON document per org (keys and ranges: src/firewall/settings.ts). */
export const firewallSettings = pgTable('firewall_settings', {
  orgId: uuid('org_id')
    .primaryKey()
    .references(() => orgs.id),
  settings: jsonb('settings').notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
  updatedBy: uuid('updated_by'),
});

/** Interfaces as the last sync saw them (name, addresses, status, counters). */
export const firewallInterfaces = pgTable(
  'firewall_interfaces',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    /** The device's interface id (pfSense: `wan`, `lan`, `opt1`). */
    vendorInterfaceId: text('vendor_interface_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    addresses: text('addresses').array().notNull().default(sql`'{}'::text[]`),
    status: text('status'),
    counters: jsonb('counters'),
    ...synced,
    ...timestamps,
  },
  (t) => [uniqueIndex('firewall_interfaces_vendor_uq').on(t.deviceId, t.vendorInterfaceId)],
);

/** Aliases (address / port groups) as the last sync saw them. */
export const firewallAliases = pgTable(
  'firewall_aliases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    name: text('name').notNull(),
    /** `host` | `network` | `port` | `url` | … (the vendor's type). */
    aliasType: text('alias_type').notNull(),
    entries: text('entries').array().notNull().default(sql`'{}'::text[]`),
    description: text('description').notNull().default(''),
    ...synced,
    ...timestamps,
  },
  (t) => [uniqueIndex('firewall_aliases_device_name_uq').on(t.deviceId, t.name)],
);

/**
 * A staged write to a gateway (issue 9 item 4): what to do (`operation` on `target_type`), the redacted
 * `payload` (secrets in it are sealed in `payload_secrets_enc`), the semantic `preview`, and after apply the
 * `before_image` of what it replaced and the verification outcome. `claimed_at` + status `applying` make apply
 * an atomic claim; a reaper returns rows stuck in `applying`.
 */
export const pendingChanges = pgTable(
  'pending_changes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: orgRef(),
    siteId: siteRef(),
    deviceId: deviceRef(),
    /** e.g. `firewall_rule`, `port_forward`, `source_nat`, `alias`, `static_route`, `service`, `system`. */
    targetType: text('target_type').notNull(),
    /** e.g. `create` | `update` | `toggle` | `delete` | `control` | `reboot` | `halt`. */
    operation: text('operation').notNull(),
    /** The vendor id of the object changed (null for a create). */
    targetVendorId: text('target_vendor_id'),
    /** `pending` | `applying` | `applied` | `failed` | `failed_verification` | `discarded` | `reverted`. */
    status: text('status').notNull().default('pending'),
    /** The write's body with secrets replaced by the redaction marker. */
    payload: jsonb('payload').notNull(),
    /** Keyring ciphertext of the secret fields of the payload, as JSON (null when there are none). */
    payloadSecretsEnc: text('payload_secrets_enc'),
    /** Deletes and catastrophic operations need `confirmed=true` at apply time (never stored as given). */
    requiresConfirmation: boolean('requires_confirmation').notNull().default(false),
    /** Semantic preview: newly passing / newly blocked regions and the lock-out check. */
    preview: jsonb('preview'),
    /** What the device held before the apply (for revert / automatic restore). */
    beforeImage: jsonb('before_image'),
    verification: jsonb('verification'),
    overrideLockout: boolean('override_lockout').notNull().default(false),
    overrideReason: text('override_reason'),
    /** The applied change this one reverts. */
    revertsId: uuid('reverts_id'),
    /** The normalized rule a deploy compiled this change from; it gets the device's rule id once applied. */
    sourceRuleId: uuid('source_rule_id').references(() => firewallRules.id),
    /** A rule create placed in front of this rule (a revert puts a deleted rule back in its place); null: appended. */
    placeBefore: text('place_before'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    vendorCode: text('vendor_code'),
    createdBy: uuid('created_by'),
    claimedAt: tz('claimed_at'),
    /** Which node holds the claim (for the reaper's log). */
    claimedBy: text('claimed_by'),
    appliedAt: tz('applied_at'),
    appliedBy: uuid('applied_by'),
    ...timestamps,
  },
  (t) => [
    index('pending_changes_org_status_idx').on(t.orgId, t.status),
    index('pending_changes_device_status_idx').on(t.deviceId, t.status),
    index('pending_changes_applying_idx').on(t.claimedAt).where(sql`${t.status} = 'applying'`),
  ],
);
