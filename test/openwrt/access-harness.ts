/**
 * @module The OpenWrt harness of the vendor-neutral access scenarios and benchmark (test/contract/access-scenarios.case.ts,
 * bench/access/harnesses.ts): the OpenWrt emulator over HTTPS, signed in as the least-privilege `portcullis` login
 * with exactly the ACL docs/openwrt.md documents. Entries are runtime elements of the live nft set (no apply;
 * docs/reference/openwrt-api.md §3, §4.7), they expire in the kernel (native expiry: `liveEntries` reports each
 * element's remaining time as `expiresAt`), and a reboot loses them (§4.5), which `reboot()` models.
 */
import { startOpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';
import type { AccessScenarioHarness } from '../contract/access-scenarios.case.ts';
import { documentedAcl } from './adapter-harness.ts';

/** An nft command line of `file.exec` that changes set content (`add element` / `delete element`, §3.3). */
const isElementWrite = (args: unknown): boolean => {
  const a = args as { command?: unknown; params?: unknown } | null;
  if (a?.command !== '/usr/sbin/nft' || !Array.isArray(a.params)) return false;
  return /\b(add|delete|destroy)\s+element\b/.test(a.params.join(' '));
};

export const openwrtAccessHarness: AccessScenarioHarness = {
  vendor: 'openwrt',
  start: async () => {
    const emu = await startOpenWrtEmulator({ reloadDelayMs: Number(process.env.OWRT_RELOAD_DELAY_MS ?? 20), aclGroups: documentedAcl() });
    const login = emu.users.find((u) => u.username === 'portcullis');
    if (login === undefined) throw new Error('the OpenWrt emulator has no portcullis login');
    const calls = () => emu.requests().flatMap((r) => r.calls);
    return {
      url: emu.url,
      credentials: { username: login.username, password: login.password },
      fingerprint: emu.fingerprint,
      liveEntries: (set) => {
        const state = emu.state();
        return (state.firewall.sets[set]?.elements ?? []).map((e) => ({
          address: e.value,
          ...(e.expiresInS !== null ? { expiresAt: state.now + e.expiresInS * 1000 } : {}),
        }));
      },
      writes: () => calls().filter((c) => c.object === 'file' && c.method === 'exec' && isElementWrite(c.args)).length,
      // Set entries are live at once; a uci.apply would be a configuration apply (none on the grant path).
      applies: () => calls().filter((c) => c.object === 'uci' && c.method === 'apply').length,
      outage: (on) => (on ? emu.fault({ kind: 'drop', times: 1_000_000 }) : emu.clearFaults()),
      outageCode: 'OWRT000',
      faults: [
        { name: 'ACL denies file.exec', code: 'OWRT002', inject: () => emu.fault({ kind: 'ubus-status', status: 6, object: 'file', method: 'exec', times: 1_000_000 }) },
        { name: 'ubus request timed out', code: 'OWRT004', inject: () => emu.fault({ kind: 'ubus-timeout', object: 'file', times: 1_000_000 }) },
        { name: 'answer not JSON', code: 'OWRT400', inject: () => emu.fault({ kind: 'bad-body', times: 1_000_000 }) },
      ],
      clearFaults: () => emu.clearFaults(),
      reboot: () => emu.reboot(),
      close: () => emu.close(),
    };
  },
};
