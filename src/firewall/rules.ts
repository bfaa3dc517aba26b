/**
 * @module Normalized firewall rules (`/api/v1/firewall/rules`): fields as the FreeSDN spec lists them
 * (source/dest address, port and zone, protocol, action allow/deny/reject/log, log_enabled, is_enabled,
 * rule_order, description, device_id, vendor_rule_id), CRUD through src/firewall/objects.ts, and reorder.
 */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { ValidationError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { isUuid, requireBoolean } from '../core/validate.ts';
import { firewallRules } from '../store/schema/firewall.ts';
import {
  checkPortsFitProtocol,
  requireAddress,
  requireDescription,
  requireInteger,
  requireOneOf,
  requirePort,
  requireProtocol,
  requireZone,
  RULE_ACTIONS,
} from './fields.ts';
import { type Device, nextOrder, type ObjectKind } from './objects.ts';

type FirewallRuleRow = typeof firewallRules.$inferSelect;

/** The flag check every table's booleans use (field checks take `(value, field)`). */
export const bool = (value: unknown, field: string): boolean => requireBoolean(field, value);

/** A vendor's id for an object (a rule tracker, a UUID, …): printable, at most 128 characters. */
export const vendorId = (value: unknown, field: string): string | null => {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || /[\p{Cc}\s]/u.test(value)) {
    throw new ValidationError(field, `${field} must be a non-empty id of at most 128 printable characters`);
  }
  return value;
};

export const ORDER_MAX = 1_000_000;

export const RULES: ObjectKind<FirewallRuleRow> = {
  resource: 'firewall rule',
  auditTarget: 'firewall_rule',
  table: firewallRules,
  fields: {
    source_address: { key: 'sourceAddress', parse: (v, f) => requireAddress(f, v) },
    source_port: { key: 'sourcePort', parse: (v, f) => requirePort(f, v) },
    source_zone: { key: 'sourceZone', parse: (v, f) => requireZone(f, v) },
    dest_address: { key: 'destAddress', parse: (v, f) => requireAddress(f, v) },
    dest_port: { key: 'destPort', parse: (v, f) => requirePort(f, v) },
    dest_zone: { key: 'destZone', parse: (v, f) => requireZone(f, v) },
    protocol: { key: 'protocol', parse: (v, f) => requireProtocol(f, v) },
    action: { key: 'action', parse: (v, f) => requireOneOf(f, v, RULE_ACTIONS) },
    log_enabled: { key: 'logEnabled', parse: bool },
    is_enabled: { key: 'isEnabled', parse: bool },
    rule_order: { key: 'ruleOrder', parse: (v, f) => requireInteger(f, v, 1, ORDER_MAX) },
    description: { key: 'description', parse: (v, f) => requireDescription(f, v) },
    vendor_rule_id: { key: 'vendorRuleId', parse: vendorId },
  },
  required: ['action'],
  check: (row) =>
    checkPortsFitProtocol(row.protocol ?? 'any', { source_port: row.sourcePort, dest_port: row.destPort }),
  defaults: async (ctx, device) => ({ ruleOrder: await nextOrder(ctx, firewallRules, device.id) }),
  filters: { action: firewallRules.action, is_enabled: firewallRules.isEnabled },
  orderBy: [asc(firewallRules.deviceId), asc(firewallRules.ruleOrder)],
};

/**
 * Sets `rule_order` 1..n, in the given order, on exactly the listed rules of `device`; other rules keep theirs.
 * Every id must be a live rule of that device (a foreign, deleted, unknown or repeated id is a 400 naming it).
 */
export async function reorderRules(ctx: ServiceContext, device: Device, ids: readonly unknown[]): Promise<string[]> {
  if (ids.length === 0) throw new ValidationError('body', 'the list of rule ids must not be empty');
  if (ids.length > 10_000) throw new ValidationError('body', 'at most 10000 rule ids per reorder');
  const seen = new Set<string>();
  const wanted = ids.map((value, i) => {
    if (!isUuid(value)) throw new ValidationError(`body.${i}`, `body.${i} must be a rule id (UUID)`);
    const id = value.toLowerCase();
    if (seen.has(id)) throw new ValidationError(`body.${i}`, `rule ${id} is listed twice`);
    seen.add(id);
    return id;
  });
  return inTransaction(ctx, async (tx) => {
    const found = await tx.db
      .select({ id: firewallRules.id, ruleOrder: firewallRules.ruleOrder })
      .from(firewallRules)
      .where(
        and(
          eq(firewallRules.orgId, tx.orgId),
          eq(firewallRules.deviceId, device.id),
          isNull(firewallRules.deletedAt),
          inArray(firewallRules.id, wanted),
        ),
      )
      .for('update');
    const before = new Map(found.map((r) => [r.id, r.ruleOrder]));
    wanted.forEach((id, i) => {
      if (!before.has(id)) {
        throw new ValidationError(`body.${i}`, `rule ${id} is not a live rule of gateway ${device.name}`);
      }
    });
    const now = tx.now();
    for (const [i, id] of wanted.entries()) {
      if (before.get(id) === i + 1) continue;
      await tx.db.update(firewallRules).set({ ruleOrder: i + 1, updatedAt: now }).where(eq(firewallRules.id, id));
    }
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'firewall_rule.reorder',
      targetType: 'gateway',
      targetId: device.id,
      siteId: device.siteId,
      before: { order: wanted.map((id) => ({ id, rule_order: before.get(id) })) },
      after: { order: wanted.map((id, i) => ({ id, rule_order: i + 1 })) },
    });
    return wanted;
  });
}
