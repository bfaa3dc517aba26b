/**
 * @module Public entry of the pfRest emulator: `startPfRestEmulator()` and its types.
 */
export type { LiveViews } from './areas/live.ts';
export { startPfRestEmulator } from './server.ts';
export type { LiveState, PfRestSettings, PfRestState, StoredAlias } from './state.ts';
export {
  FAULT_KINDS,
  type FaultKind,
  type FaultSpec,
  type PfRestEmulator,
  type PfRestEmulatorOptions,
  type RequestRecord,
} from './types.ts';
