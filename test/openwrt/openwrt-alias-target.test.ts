/**
 * @module Runs the vendor-neutral AliasTarget contract against the OpenWrt adapter and the OpenWrt emulator:
 * writes live at once (runtime nft elements), native expiry through the emulator's clock (`advance`), kill states
 * through conntrack (docs/adr/0200-openwrt-runtime-set-path.md).
 */
import { openwrtVendor } from '../../src/adapters/openwrt/vendor.ts';
import { runAliasTargetContract } from '../contract/alias-target.case.test.ts';
import { liveAddresses, pair } from './adapter-harness.ts';

runAliasTargetContract({
  name: 'OpenWrt adapter ↔ OpenWrt emulator (runtime nft set, 20 ms reload)',
  notFoundCode: 'OWRT103',
  capabilities: openwrtVendor.capabilities,
  make: async () => {
    const p = await pair();
    const { emu, adapter } = p;
    return {
      target: adapter,
      liveEntries: async (alias) => liveAddresses(emu, alias),
      openStates: async (ip, count) => {
        for (let i = 0; i < count; i++)
          emu.addConnection({ proto: 'tcp', src: ip, dst: `192.168.1.${10 + i}`, sport: 40_000 + i, dport: 443 });
      },
      stateCount: async (ip) => emu.state().connections.filter((c) => c.src === ip || c.dst === ip).length,
      elapse: async (ms) => emu.advance(ms),
      close: () => p.close(),
    };
  },
});
