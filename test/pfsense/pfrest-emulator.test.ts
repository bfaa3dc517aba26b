/**
 * @module Runs the shared pfRest contract suite against the in-repo emulator.
 */
import { startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';
import { runPfRestContract } from './pfrest.case.test.ts';

runPfRestContract({
  name: 'in-repo emulator',
  start: async ({ applyDelayMs }) => {
    const emu = await startPfRestEmulator({ applyDelayMs });
    return {
      url: emu.url,
      apiKey: emu.apiKey,
      caPem: emu.caPem,
      basic: { user: 'admin', password: 'pfsense' },
      reset: async () => emu.reset(),
      keyWith: async (privileges) => emu.addKey(privileges),
      setEnabled: async (enabled) => emu.updateSettings({ enabled }),
      close: () => emu.close(),
    };
  },
});
