/**
 * @module Public entry of the pfSense adapter.
 */
export { PfSenseAdapter } from './adapter.ts';
export { pfsenseVendor } from './vendor.ts';
export { PFS_CATALOG, PfSenseError, type PfsCode } from './errors.ts';
export { PfSenseLiveWriter, pfsenseLiveWriter } from './live-write.ts';
export { MAX_LIVE_LIMIT, type PfRestRow, PfSenseLiveReads } from './live.ts';
export { LIVE_WRITE_PRIVILEGES, privilegeFor, REQUIRED_PRIVILEGES } from './privileges.ts';
export type {
  AdapterLogger,
  ApplyOptions,
  PfSenseAdapterOptions,
  PfSenseAlias,
  PfSenseInterface,
  PfSenseRule,
} from './types.ts';
