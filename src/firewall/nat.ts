/**
 * @module Normalized NAT rules (`/api/v1/firewall/nat`): snat, dnat, masquerade, redirect. A dnat / redirect
 * needs where to send traffic (`translated_address` for dnat, `translated_port` for redirect); masquerade
 * translates to the interface address, so it takes none.
 */
import { asc } from 'drizzle-orm';
import { ValidationError } from '../errors.ts';
import { firewallNatRules } from '../store/schema/firewall.ts';
import {
  checkPortsFitProtocol,
  NAT_TYPES,
  requireAddress,
  requireDescription,
  requireInteger,
  requireOneOf,
  requirePort,
  requireProtocol,
  requireZone,
} from './fields.ts';
import { nextOrder, type ObjectKind } from './objects.ts';
import { bool, ORDER_MAX, vendorId } from './rules.ts';

type NatRuleRow = typeof firewallNatRules.$inferSelect;

const nullable =
  (parse: (v: unknown, f: string) => string) =>
  (value: unknown, field: string): string | null =>
    value === null ? null : parse(value, field);

export const NAT_RULES: ObjectKind<NatRuleRow> = {
  resource: 'NAT rule',
  auditTarget: 'nat_rule',
  table: firewallNatRules,
  fields: {
    nat_type: { key: 'natType', parse: (v, f) => requireOneOf(f, v, NAT_TYPES) },
    interface: { key: 'interface', parse: (v, f) => requireZone(f, v) },
    protocol: { key: 'protocol', parse: (v, f) => requireProtocol(f, v) },
    source_address: { key: 'sourceAddress', parse: (v, f) => requireAddress(f, v) },
    source_port: { key: 'sourcePort', parse: (v, f) => requirePort(f, v) },
    dest_address: { key: 'destAddress', parse: (v, f) => requireAddress(f, v) },
    dest_port: { key: 'destPort', parse: (v, f) => requirePort(f, v) },
    translated_address: {
      key: 'translatedAddress',
      parse: nullable((v, f) => requireAddress(f, v, { allowAny: false })),
    },
    translated_port: { key: 'translatedPort', parse: nullable((v, f) => requirePort(f, v)) },
    is_enabled: { key: 'isEnabled', parse: bool },
    log_enabled: { key: 'logEnabled', parse: bool },
    rule_order: { key: 'ruleOrder', parse: (v, f) => requireInteger(f, v, 1, ORDER_MAX) },
    description: { key: 'description', parse: (v, f) => requireDescription(f, v) },
    vendor_rule_id: { key: 'vendorRuleId', parse: vendorId },
  },
  required: ['nat_type'],
  check: (row) => {
    checkPortsFitProtocol(row.protocol ?? 'any', {
      source_port: row.sourcePort,
      dest_port: row.destPort,
      translated_port: row.translatedPort,
    });
    if (row.natType === 'dnat' && !row.translatedAddress) {
      throw new ValidationError('translated_address', 'translated_address is required for a dnat rule');
    }
    if (row.natType === 'redirect' && !row.translatedPort) {
      throw new ValidationError('translated_port', 'translated_port is required for a redirect rule');
    }
    if (row.natType === 'masquerade' && row.translatedAddress) {
      throw new ValidationError('translated_address', 'a masquerade rule translates to the interface address');
    }
  },
  defaults: async (ctx, device) => ({ ruleOrder: await nextOrder(ctx, firewallNatRules, device.id) }),
  filters: { nat_type: firewallNatRules.natType, is_enabled: firewallNatRules.isEnabled },
  orderBy: [asc(firewallNatRules.deviceId), asc(firewallNatRules.ruleOrder)],
};
