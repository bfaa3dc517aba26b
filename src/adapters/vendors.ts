/**
 * @module The built-in vendors: one line per `src/adapters/<vendor>/` descriptor. Import the registry
 * through this module so the built-ins are always registered.
 */
import { nftablesVendor } from './nftables/vendor.ts';
import { openwrtVendor } from './openwrt/vendor.ts';
import { opnsenseVendor } from './opnsense/vendor.ts';
import { pfsenseVendor } from './pfsense/vendor.ts';
import { registerVendor } from './registry.ts';
import { routerOsVendor } from './routeros/vendor.ts';

for (const vendor of [pfsenseVendor, opnsenseVendor, routerOsVendor, openwrtVendor, nftablesVendor])
  registerVendor(vendor);

/** The vendor a gateway gets when a request names none (the API's historical default). */
export const DEFAULT_VENDOR_ID = pfsenseVendor.id;

export { findVendor, listVendors, registerVendor, unregisterVendor } from './registry.ts';
