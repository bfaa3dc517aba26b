/**
 * @module Public entry of the OpenWrt adapter.
 */
export { NFT, CONNTRACK, OpenWrtAdapter, type OpenWrtAdapterOptions, batchParams, packChanges, parseNftSet } from './adapter.ts';
export { OWRT_CATALOG, OpenWrtError, type OwrtCode } from './errors.ts';
export { OPENWRT_LIVE_UNAVAILABLE, openwrtLiveView, parseFirewallLine } from './live-view.ts';
export { OpenWrtLiveWriter, openwrtLiveWriter } from './live-write.ts';
export { BODY_BUDGET, UHTTPD_MAX_POST, UbusClient } from './ubus.ts';
export { openwrtVendor } from './vendor.ts';
