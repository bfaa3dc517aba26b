/** @module The lab entry of pfSense: the pfRest v2 emulator (src/emulators/pfrest) with one API key. */
import { randomBytes } from 'node:crypto';
import { startPfRestEmulator } from '../emulators/pfrest/index.ts';
import type { LabEmulator } from './vendors.ts';

export const pfsenseLab: LabEmulator = {
  vendor: 'pfsense',
  describe: 'pfSense (pfRest v2 emulator)',
  stateFile: 'pfrest-state.json',
  newCredentials: () => ({ api_key: randomBytes(24).toString('hex') }),
  start: async ({ host, port, credentials, certificate, stateFile }) => {
    const emulator = await startPfRestEmulator({
      host,
      port,
      ...(credentials.api_key ? { apiKey: credentials.api_key } : {}),
      certificate,
      stateFile,
      applyDelayMs: 0,
    });
    return { url: emulator.url, port: emulator.port, fingerprint: emulator.fingerprint, close: () => emulator.close() };
  },
};
