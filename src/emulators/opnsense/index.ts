/**
 * @module Public entry of the OPNsense emulator: `startOpnsenseEmulator()` and its types
 * (docs/reference/opnsense-api.md §8).
 */
export { startOpnsenseEmulator } from './server.ts';
export type { OpnAlias, OpnBox, OpnRule, PfState, StoredKey } from './state.ts';
export {
  FAULT_KINDS,
  type FaultKind,
  type FaultSpec,
  type OpnKeySpec,
  type OpnsenseEmulator,
  type OpnsenseEmulatorOptions,
  type RequestRecord,
  VERSION_PROFILES,
  type VersionProfile,
} from './types.ts';
