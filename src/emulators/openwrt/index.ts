/**
 * @module Public entry of the OpenWrt (uhttpd-mod-ubus + rpcd + UCI + firewall4) emulator:
 * `startOpenWrtEmulator()` and its types (docs/reference/openwrt-api.md §8).
 */
export type { AclGroup, AclScope, EmulatorUser } from './acl.ts';
export { DEFAULT_RELEASE, JSON_RPC_ERRORS, MAX_POST_SIZE, startOpenWrtEmulator } from './server.ts';
export type { UciConfigs, UciPackage, UciSection } from './uci.ts';
export {
  type Connection,
  FAULT_KINDS,
  type FaultKind,
  type FaultSpec,
  type OpenWrtEmulator,
  type OpenWrtEmulatorOptions,
  type OpenWrtRelease,
  type OpenWrtState,
  type RequestRecord,
  type UbusCallRecord,
} from './types.ts';
