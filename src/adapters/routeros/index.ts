/**
 * @module Public entry of the MikroTik RouterOS v7 REST adapter.
 */
export {
  checkListName,
  connectionHost,
  hasRest,
  normalizeListAddress,
  parseRosJson,
  parseRosVersion,
  RouterOsAdapter,
  type RouterOsAdapterOptions,
  type RosListEntry,
  type RosRow,
} from './adapter.ts';
export { formatRosSeconds, parseRosDuration } from './duration.ts';
export { ROS_CATALOG, RouterOsError, type RosCode } from './errors.ts';
export { parseFirewallLogMessage, ROUTEROS_LIVE_UNAVAILABLE, routerOsLiveView } from './live-view.ts';
export { RouterOsLiveWriter, routerOsLiveWriter } from './live-write.ts';
export { queueDepth, runSerially } from './queue.ts';
export { routerOsVendor } from './vendor.ts';
