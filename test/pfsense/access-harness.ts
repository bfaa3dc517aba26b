/**
 * @module The pfSense harness of the vendor-neutral access scenarios and benchmark (test/contract/access-scenarios.case.ts,
 * bench/access/vendors.ts): the pfRest emulator over HTTPS with a 20 ms filter reload (`PFS_APPLY_DELAY_MS` changes it).
 * pfSense has no native expiry and the emulator models no reboot (aliases are configuration and survive one).
 */
import { startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import type { AccessScenarioHarness } from '../contract/access-scenarios.case.ts';

export const pfsenseAccessHarness: AccessScenarioHarness = {
  vendor: 'pfsense',
  start: async () => {
    const emu = await startPfRestEmulator({ applyDelayMs: Number(process.env.PFS_APPLY_DELAY_MS ?? 20) });
    const count = (match: (r: { method: string; path: string }) => boolean) => emu.requests().filter(match).length;
    return {
      url: emu.url,
      credentials: { api_key: emu.apiKey },
      fingerprint: emu.fingerprint,
      liveEntries: (alias) => (emu.state().tables[alias] ?? []).map((address) => ({ address })),
      writes: () => count((r) => r.method !== 'GET' && r.path.startsWith('/api/v2/firewall/alias')),
      applies: () => count((r) => r.method === 'POST' && r.path === '/api/v2/firewall/apply'),
      outage: (on) => (on ? emu.injectFault({ kind: 'drop', times: 1_000_000 }) : emu.clearFaults()),
      outageCode: 'PFS000',
      faults: [
        { name: '401 bad key', code: 'PFS001', inject: () => emu.injectFault({ kind: 'status', status: 401, times: 1_000_000 }) },
        { name: 'pfRest absent', code: 'PFS005', inject: () => emu.injectFault({ kind: 'package-absent', times: 1_000_000 }) },
        { name: '503 on apply', code: 'PFS200', inject: () => emu.injectFault({ kind: 'status', status: 503, path: '/api/v2/firewall/apply', times: 1_000_000 }) },
        { name: 'answer not JSON', code: 'PFS400', inject: () => emu.injectFault({ kind: 'non-json', times: 1_000_000 }) },
      ],
      clearFaults: () => emu.clearFaults(),
      close: () => emu.close(),
    };
  },
};
