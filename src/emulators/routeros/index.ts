/**
 * @module Public entry of the RouterOS v7 REST emulator: `startRouterOsEmulator()` and its types
 * (docs/reference/routeros-api.md §8).
 */
export { parseDuration, formatDuration } from './duration.ts';
export { FULL_POLICIES, startRouterOsEmulator } from './server.ts';
export type { RosState, RosTable } from './state.ts';
export type { RosRow } from './menus.ts';
export {
  FAULT_KINDS,
  type FaultKind,
  type FaultSpec,
  type NewConnection,
  type NewLogLine,
  type RequestRecord,
  type RosUser,
  type RouterOsEmulator,
  type RouterOsEmulatorOptions,
} from './types.ts';
