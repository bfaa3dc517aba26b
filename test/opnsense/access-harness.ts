/**
 * @module The OPNsense harness of the vendor-neutral access scenarios and benchmark (test/contract/access-scenarios.case.ts,
 * bench/access/harnesses.ts): the OPNsense emulator (src/emulators/opnsense) over HTTPS with a 20 ms alias reconfigure
 * (`OPN_APPLY_DELAY_MS` changes it). Writes are staged in config (`alias/set_item`, `add_item`) and made live by
 * `alias/reconfigure` (docs/reference/opnsense-api.md §4); what is live is the emulator's runtime pf table, not its config.
 * OPNsense has no native expiry (the native-expiry scenario is skipped by the flag); a reboot is modelled (the managed
 * tables are rebuilt from config) and offered.
 */
import { startOpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';
import type { VersionProfile } from '../../src/emulators/opnsense/types.ts';
import type { AccessScenarioHarness } from '../contract/access-scenarios.case.ts';

const FOREVER = 1_000_000;
const ALIAS_WRITE = /^\/api\/firewall\/alias\/(add_item|set_item|del_item)/;

/** The harness on one firmware profile (default: the emulator's, 26.1.11). */
export const opnsenseHarnessAt = (version?: VersionProfile): AccessScenarioHarness => ({
  vendor: 'opnsense',
  start: async () => {
    const emu = await startOpnsenseEmulator({
      applyDelayMs: Number(process.env.OPN_APPLY_DELAY_MS ?? 20),
      ...(version === undefined ? {} : { version }),
    });
    const count = (match: (r: { method: string; path: string }) => boolean) => emu.requests().filter(match).length;
    return {
      url: emu.url,
      credentials: { api_key: emu.credentials.key, api_secret: emu.credentials.secret },
      fingerprint: emu.fingerprint,
      liveEntries: (alias) => (emu.state().runtime.tables[alias] ?? []).map((address) => ({ address })),
      writes: () => count((r) => r.method === 'POST' && ALIAS_WRITE.test(r.path)),
      applies: () => count((r) => r.method === 'POST' && r.path === '/api/firewall/alias/reconfigure'),
      outage: (on) => (on ? emu.fault({ kind: 'drop', times: FOREVER }) : emu.clearFaults()),
      outageCode: 'OPN000',
      faults: [
        { name: '401 bad key', code: 'OPN001', inject: () => emu.fault({ kind: 'status', status: 401, times: FOREVER }) },
        {
          name: '500 on reconfigure',
          code: 'OPN200',
          inject: () => emu.fault({ kind: 'status', status: 500, path: '/api/firewall/alias/reconfigure', times: FOREVER }),
        },
        {
          name: 'a UserException',
          code: 'OPN007',
          inject: () => emu.fault({ kind: 'user-exception', title: 'Alias', body: 'config locked', path: '/api/firewall/alias/', times: FOREVER }),
        },
        { name: 'answer not JSON', code: 'OPN400', inject: () => emu.fault({ kind: 'bad-body', times: FOREVER }) },
      ],
      clearFaults: () => emu.clearFaults(),
      reboot: () => emu.reboot(),
      close: () => emu.close(),
    };
  },
});

export const opnsenseAccessHarness: AccessScenarioHarness = opnsenseHarnessAt();
