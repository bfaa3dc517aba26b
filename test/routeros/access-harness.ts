/**
 * @module The RouterOS harness of the vendor-neutral access scenarios and benchmark (test/contract/access-scenarios.case.ts,
 * bench/access/vendors.ts): the RouterOS emulator over HTTPS (www-ssl), one request processed at a time as the router
 * does (docs/reference/routeros-api.md §7), `ROS_LATENCY_MS` (default 1) per request. Writes are live at once (no
 * apply, §4); entries carry the router's own `timeout` (native expiry, §3.5), read back here as `expiresAt`; a
 * reboot drops timed entries (§4.2), which the next full reconcile puts back.
 */
import { startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import type { AccessScenarioHarness } from '../contract/access-scenarios.case.ts';

const ADDRESS_LIST = '/rest/ip/firewall/address-list';

export const routerOsAccessHarness: AccessScenarioHarness = {
  vendor: 'routeros',
  start: async () => {
    const emu = await startRouterOsEmulator({ latencyMs: Number(process.env.ROS_LATENCY_MS ?? 1), dynamicFilterRule: false });
    const forever = 1_000_000;
    return {
      url: emu.url,
      credentials: { username: emu.credentials.username, password: emu.credentials.password },
      fingerprint: emu.fingerprint,
      // The router's runtime table; `expiresAt` is the emulated clock's end of the entry's timeout (not advanced here).
      liveEntries: (list) =>
        (emu.state().tables['ip/firewall/address-list']?.rows ?? [])
          .filter((row) => row.values.list === list && row.values.disabled !== 'true')
          .map((row) => ({ address: row.values.address ?? '', ...(row.expiresAt !== null ? { expiresAt: row.expiresAt } : {}) })),
      // Content writes: PUT (add), PATCH (comment/timeout), DELETE; `POST …/print` is a read.
      writes: () =>
        emu.requests().filter((r) => r.path.startsWith(ADDRESS_LIST) && ['PUT', 'PATCH', 'DELETE'].includes(r.method)).length,
      applies: () => 0,
      outage: (on) => (on ? emu.fault({ kind: 'drop', times: forever }) : emu.clearFaults()),
      outageCode: 'ROS000',
      faults: [
        { name: '401 bad credentials', code: 'ROS001', inject: () => emu.fault({ kind: 'status', status: 401, times: forever }) },
        {
          name: '500 not enough permissions',
          code: 'ROS002',
          inject: () => emu.fault({ kind: 'status', status: 500, detail: 'not enough permissions (9)', times: forever }),
        },
        { name: 'WebFig HTML', code: 'ROS005', inject: () => emu.fault({ kind: 'html', times: forever }) },
        { name: 'truncated JSON', code: 'ROS400', inject: () => emu.fault({ kind: 'bad-json', times: forever }) },
        { name: 'Session closed', code: 'ROS007', inject: () => emu.fault({ kind: 'session-closed', times: forever }) },
      ],
      clearFaults: () => emu.clearFaults(),
      // The reboot must really drop what the router keeps in RAM (§3.5), or the restore scenario proves nothing.
      reboot: () => {
        emu.reboot();
        const timed = (emu.state().tables['ip/firewall/address-list']?.rows ?? []).filter((row) => row.expiresAt !== null);
        if (timed.length > 0) throw new Error(`${timed.length} timed address-list entries survived the reboot`);
      },
      maxInFlight: () => emu.maxInFlight(),
      resetMaxInFlight: () => emu.resetMaxInFlight(),
      close: () => emu.close(),
    };
  },
};
