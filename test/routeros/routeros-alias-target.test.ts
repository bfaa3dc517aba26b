/**
 * @module Runs the vendor-neutral AliasTarget contract against the RouterOS adapter and the RouterOS emulator: writes
 * are live at once, entries expire natively (the emulator's clock is moved with `advance`), connections are killed.
 */
import { routerOsVendor } from '../../src/adapters/routeros/index.ts';
import { startRouterOsEmulator } from '../../src/emulators/routeros/index.ts';
import { runAliasTargetContract } from '../contract/alias-target.case.test.ts';
import { connectionCount, listAddresses, rosAdapterFor } from './adapter-helpers.ts';

runAliasTargetContract({
  name: 'RouterOS adapter ↔ RouterOS emulator (www-ssl, live writes, native timeouts)',
  notFoundCode: routerOsVendor.errors.aliasNotFound,
  capabilities: routerOsVendor.capabilities,
  implicitLists: 'a RouterOS address list has no object: it exists by name (docs/adr/0193-routeros-address-lists.md)',
  unordered: 'a RouterOS address list is a set in creation order; manual entries are never re-added to reorder it',
  make: async () => {
    const emu = await startRouterOsEmulator({});
    const adapter = rosAdapterFor(emu);
    return {
      target: adapter,
      liveEntries: async (alias) => listAddresses(emu, alias),
      openStates: async (ip, count) => {
        for (let i = 0; i < count; i++)
          emu.addConnection({ srcAddress: `${ip}:${40_000 + i}`, dstAddress: `192.0.2.${10 + i}:443`, protocol: 'tcp' });
      },
      stateCount: async (ip) => connectionCount(emu, ip),
      elapse: async (ms) => {
        emu.advance(ms);
      },
      close: async () => {
        await adapter.close();
        await emu.close();
      },
    };
  },
});
