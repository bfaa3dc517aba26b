/**
 * @module The lab entry of OPNsense: the OPNsense emulator (src/emulators/opnsense, firmware profile 26.1.11) with
 * one admin API key and secret (key_secret credentials, docs/reference/opnsense-api.md §1).
 */
import { randomBytes } from 'node:crypto';
import { startOpnsenseEmulator } from '../emulators/opnsense/index.ts';
import type { LabEmulator } from './vendors.ts';

/** An 80-character key or secret, the length OPNsense gives its own. */
const token = () => randomBytes(60).toString('base64url').slice(0, 80);

export const opnsenseLab: LabEmulator = {
  vendor: 'opnsense',
  describe: 'OPNsense (core API emulator)',
  stateFile: 'opnsense-state.json',
  newCredentials: () => ({ api_key: token(), api_secret: token() }),
  start: async ({ host, port, credentials, certificate, stateFile }) => {
    const emulator = await startOpnsenseEmulator({
      host,
      port,
      ...(credentials.api_key && credentials.api_secret
        ? { keys: [{ key: credentials.api_key, secret: credentials.api_secret }] }
        : {}),
      certificate,
      stateFile,
      applyDelayMs: 0,
    });
    return { url: emulator.url, port: emulator.port, fingerprint: emulator.fingerprint, close: () => emulator.close() };
  },
};
