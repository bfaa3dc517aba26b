/**
 * @module Runs the vendor-neutral AliasTarget contract against the OPNsense adapter and the OPNsense emulator
 * (src/emulators/opnsense, written independently of the adapter), over HTTPS with the certificate pinned.
 */
import { OpnSenseAdapter, opnsenseVendor } from '../../src/adapters/opnsense/index.ts';
import { startOpnsenseEmulator } from '../../src/emulators/opnsense/index.ts';
import { runAliasTargetContract } from '../contract/alias-target.case.test.ts';

for (const version of ['24.7', '26.1.11', '26.7'] as const) {
  runAliasTargetContract({
    name: `OPNsense adapter ↔ OPNsense emulator ${version}`,
    notFoundCode: 'OPN103',
    capabilities: opnsenseVendor.capabilities,
    make: async () => {
      const emu = await startOpnsenseEmulator({ version });
      const adapter = new OpnSenseAdapter({
        url: emu.url,
        apiKey: emu.credentials.key,
        apiSecret: emu.credentials.secret,
        tls: { mode: 'fingerprint', sha256: emu.fingerprint },
        timeouts: { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000 },
        retry: { maxRetries: 1, initialDelayMs: 10, maxDelayMs: 20 },
      });
      const involves = (ip: string, s: { src_addr: string; dst_addr: string }) => s.src_addr === ip || s.dst_addr === ip;
      return {
        target: adapter,
        liveEntries: async (alias) => emu.state().runtime.tables[alias] ?? null,
        openStates: async (ip, count) => {
          const states = emu.state().states;
          const more = Array.from({ length: count }, (_, i) => ({
            src_addr: ip,
            src_port: String(40_000 + i),
            dst_addr: `192.168.1.${10 + i}`,
            dst_port: '443',
          }));
          emu.setStates([...states, ...more]);
        },
        stateCount: async (ip) => emu.state().states.filter((s) => involves(ip, s)).length,
        close: async () => {
          await adapter.close();
          await emu.close();
        },
      };
    },
  });
}
