/**
 * @module What a gateway must be able to do to take a role in a site's role map (docs/orchestration.md, ADR 0241).
 * A role needs capability flags of the vendor registry (src/adapters/registry.ts) and one orchestration
 * capability for the brain: `l3_authority` (the site's router: VLAN interfaces, DHCP, DNS, firewall, NAT, VPN —
 * pfSense and OPNsense), which no registry flag expresses, so this table carries it per vendor id. A limb needs
 * registry flags only: its bridge VLAN table read and written (`read.bridge_vlans`, `write.bridge_vlans`, ADR 0255).
 * A refusal names the capability missing, whichever list it comes from.
 */
import { findVendor, listVendors } from '../adapters/vendors.ts';
import type { Capability } from '../adapters/registry.ts';

export const ROLES = ['brain', 'limb'] as const;
export type Role = (typeof ROLES)[number];

type OrchestrationCapability = 'l3_authority';

const ORCHESTRATION_CAPABILITIES: Readonly<Record<string, readonly OrchestrationCapability[]>> = {
  pfsense: ['l3_authority'],
  opnsense: ['l3_authority'],
};

export const ROLE_REQUIREMENTS: Readonly<
  Record<Role, { registry: readonly Capability[]; orchestration: OrchestrationCapability | null }>
> = {
  // The brain's config is read to fill the canonical state (§12): it must show its interfaces and rules.
  brain: { registry: ['read.interfaces', 'read.rules'], orchestration: 'l3_authority' },
  // A limb carries the site's VLANs on its bridge: Portcullis reads and writes that table (vlan_l2 authority).
  limb: { registry: ['read.interfaces', 'read.bridge_vlans', 'write.bridge_vlans'], orchestration: null },
};

/** The capabilities `vendorId` lacks for `role`, in the order checked; empty when it qualifies. */
export function missingCapabilities(vendorId: string, role: Role): string[] {
  const vendor = findVendor(vendorId);
  const needs = ROLE_REQUIREMENTS[role];
  const missing: string[] = needs.registry.filter((flag) => vendor?.capabilities[flag] !== true);
  if (needs.orchestration !== null && !(ORCHESTRATION_CAPABILITIES[vendorId] ?? []).includes(needs.orchestration)) {
    missing.push(needs.orchestration);
  }
  return missing;
}

/** Vendor ids able to take `role` (for messages and the console). */
export function vendorsFor(role: Role): string[] {
  return listVendors()
    .map((vendor) => vendor.id)
    .filter((id) => missingCapabilities(id, role).length === 0);
}
