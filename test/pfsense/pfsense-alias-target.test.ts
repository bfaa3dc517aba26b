/**
 * @module Runs the vendor-neutral AliasTarget contract against the pfSense adapter and the pfRest emulator.
 */
import { pfsenseVendor } from '../../src/adapters/pfsense/vendor.ts';
import { startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { runAliasTargetContract } from '../contract/alias-target.case.test.ts';
import { adapterFor, liveState } from './helpers.ts';

runAliasTargetContract({
  name: 'pfSense adapter ↔ pfRest emulator (async apply, 50 ms reload)',
  notFoundCode: 'PFS103',
  capabilities: pfsenseVendor.capabilities,
  make: async () => {
    const emu = await startPfRestEmulator({ applyDelayMs: 50 });
    const adapter = adapterFor(emu);
    const involves = (ip: string, s: { source: string; destination: string }) =>
      s.source.startsWith(`${ip}:`) || s.destination.startsWith(`${ip}:`);
    return {
      target: adapter,
      liveEntries: async (alias) => emu.state().tables[alias] ?? null,
      openStates: async (ip, count) => {
        const states = emu.state().states;
        for (let i = 0; i < count; i++)
          states.push(liveState(`${ip}:${40_000 + i}`, `192.168.1.${10 + i}:443`));
        emu.setStates(states);
      },
      stateCount: async (ip) => emu.state().states.filter((s) => involves(ip, s)).length,
      close: async () => {
        await adapter.close();
        await emu.close();
      },
    };
  },
});
