/**
 * @module Public entry of the OPNsense adapter.
 */
export { OpnSenseAdapter, type OpnSenseAdapterOptions } from './adapter.ts';
export { opnsenseVendor } from './vendor.ts';
export { OPN_CATALOG, OpnSenseError, type OpnCode } from './errors.ts';
export { OpnSenseLiveWriter, opnsenseLiveWriter } from './live-write.ts';
export { rollbackTruth, type RollbackTruth } from './rollback.ts';
