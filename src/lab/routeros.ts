/**
 * @module The lab entry of MikroTik RouterOS: the RouterOS v7 REST emulator (src/emulators/routeros) over www-ssl,
 * with one `admin` user of every policy (docs/reference/routeros-api.md §1, §8).
 */
import { randomBytes } from 'node:crypto';
import { startRouterOsEmulator } from '../emulators/routeros/index.ts';
import type { LabEmulator } from './vendors.ts';

export const routerOsLab: LabEmulator = {
  vendor: 'routeros',
  describe: 'MikroTik RouterOS (RouterOS v7 REST emulator)',
  stateFile: 'routeros-state.json',
  newCredentials: () => ({ username: 'admin', password: randomBytes(18).toString('base64url') }),
  start: async ({ host, port, credentials, certificate, stateFile }) => {
    const emulator = await startRouterOsEmulator({
      host,
      port,
      users: [{ name: credentials.username ?? 'admin', password: credentials.password ?? '' }],
      certificate,
      stateFile,
    });
    if (emulator.fingerprint === null) throw new Error('the RouterOS lab emulator must serve www-ssl (HTTPS)');
    return { url: emulator.url, port: emulator.port, fingerprint: emulator.fingerprint, close: () => emulator.close() };
  },
};
