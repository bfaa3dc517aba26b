/**
 * @module The shared AliasTarget contract against the OPNsense adapter and the test double built from upstream
 * answers (test/opnsense/upstream/). The same contract against the OPNsense emulator is in
 * opnsense-alias-target.test.ts.
 */
import { opnsenseVendor } from '../../src/adapters/opnsense/index.ts';
import { runAliasTargetContract } from '../contract/alias-target.case.test.ts';
import { startDouble } from './device-double.ts';
import { adapterAt } from './helpers.ts';

runAliasTargetContract({
  name: 'OPNsense adapter ↔ upstream-answer double',
  notFoundCode: 'OPN103',
  capabilities: opnsenseVendor.capabilities,
  make: async () => {
    const dev = await startDouble();
    const adapter = adapterAt(dev.url, dev.credentials);
    return {
      target: adapter,
      liveEntries: async (alias) => dev.tables.get(alias) ?? null,
      openStates: async (ip, count) => {
        for (let i = 0; i < count; i++) dev.states.push({ src: `${ip}:${40_000 + i}`, dst: `192.168.1.${10 + i}:443` });
      },
      stateCount: async (ip) => dev.states.filter((s) => s.src.startsWith(`${ip}:`) || s.dst.startsWith(`${ip}:`)).length,
      close: async () => {
        await adapter.close();
        await dev.close();
      },
    };
  },
});
