/**
 * @module The lab entry of OpenWrt: the ubus/rpcd/firewall4 emulator (src/emulators/openwrt), signed in as the
 * least-privilege `portcullis` login (docs/reference/openwrt-api.md §1.7, §8). The lab keeps that login's password;
 * root gets a fresh random one on every start (the lab never uses it).
 */
import { randomBytes } from 'node:crypto';
import { startOpenWrtEmulator } from '../emulators/openwrt/index.ts';
import type { LabEmulator } from './vendors.ts';

export const openwrtLab: LabEmulator = {
  vendor: 'openwrt',
  describe: 'OpenWrt (ubus / rpcd / firewall4 emulator)',
  stateFile: 'openwrt-state.json',
  newCredentials: () => ({ username: 'portcullis', password: randomBytes(18).toString('base64url') }),
  start: async ({ host, port, credentials, certificate, stateFile }) => {
    const emulator = await startOpenWrtEmulator({
      host,
      port,
      certificate,
      stateFile,
      reloadDelayMs: 20,
      users: [
        { username: 'root', password: randomBytes(18).toString('base64url'), read: ['*'], write: ['*'] },
        {
          username: credentials.username ?? 'portcullis',
          password: credentials.password ?? '',
          read: ['portcullis'],
          write: ['portcullis'],
        },
      ],
    });
    if (emulator.fingerprint === null) throw new Error('the OpenWrt lab emulator runs without TLS');
    return { url: emulator.url, port: emulator.port, fingerprint: emulator.fingerprint, close: () => emulator.close() };
  },
};
