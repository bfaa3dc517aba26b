/**
 * @module What a gateway must be able to do to take a role in a site's role map (docs/orchestration.md, ADR 0241).
 * A role needs capability flags of the vendor registry (src/adapters/registry.ts) and one orchestration
 * capability: `l3_authority` for the brain (the site's router: VLAN interfaces, DHCP, DNS, firewall, NAT, VPN —
 * pfSense and OPNsense) and `l2_bridge_vlans` for a limb (an L2 device with a VLAN-aware bridge — RouterOS
 * bridges with VLAN filtering, OpenWrt bridge VLANs). The registry has no flags for those two yet, so this table
 * carries them per vendor id; a refusal names the capability missing, whichever list it comes from.
 */
import { findVendor } from '../adapters/vendors.ts';
import type { Capability } from '../adapters/registry.ts';

export const ROLES = ['brain', 'limb'] as const;
export type Role = (typeof ROLES)[number];

type OrchestrationCapability = 'l3_authority' | 'l2_bridge_vlans';

const ORCHESTRATION_CAPABILITIES: Readonly<Record<string, readonly OrchestrationCapability[]>> = {
  pfsense: ['l3_authority'],
  opnsense: ['l3_authority'],
  routeros: ['l2_bridge_vlans'],
  openwrt: ['l2_bridge_vlans'],
};

export const ROLE_REQUIREMENTS: Readonly<
  Record<Role, { registry: readonly Capability[]; orchestration: OrchestrationCapability }>
> = {
  // The brain's config is read to fill the canonical state (§12): it must show its interfaces and rules.
  brain: { registry: ['read.interfaces', 'read.rules'], orchestration: 'l3_authority' },
  limb: { registry: ['read.interfaces'], orchestration: 'l2_bridge_vlans' },
};

/** The capabilities `vendorId` lacks for `role`, in the order checked; empty when it qualifies. */
export function missingCapabilities(vendorId: string, role: Role): string[] {
  const vendor = findVendor(vendorId);
  const needs = ROLE_REQUIREMENTS[role];
  const missing: string[] = needs.registry.filter((flag) => vendor?.capabilities[flag] !== true);
  if (!(ORCHESTRATION_CAPABILITIES[vendorId] ?? []).includes(needs.orchestration)) missing.push(needs.orchestration);
  return missing;
}

/** Vendor ids able to take `role` (for messages and the console). */
export function vendorsFor(role: Role): string[] {
  return Object.keys(ORCHESTRATION_CAPABILITIES).filter((id) => missingCapabilities(id, role).length === 0);
}
