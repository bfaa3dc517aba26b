/**
 * @module The emulated lab's firewall: the pfRest emulator started in-process on loopback with everything a
 * registered gateway depends on kept in the data directory (`<data>/lab/`), so a restart brings back the same
 * box — same API key, same certificate (the gateway pins its fingerprint), same port when it is free, same
 * aliases and live tables (`pfrest-state.json`).
 *
 * `lab.json` holds the key and the certificate's private key: it is written with mode 0600, like the keyring.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PfRestEmulator, startPfRestEmulator } from '../emulators/pfrest/index.ts';
import { type EmulatorCertificate, generateCertificate } from '../emulators/tls.ts';

export const LAB_HOST = '127.0.0.1';

/** What `lab.json` records. */
export interface LabRecord {
  port: number;
  apiKey: string;
  certificate: EmulatorCertificate;
  /** Set once the lab gateway and demo knoc were registered; the lab never registers twice. */
  gatewayId: string | null;
  knocId: string | null;
}

interface LabPaths {
  dir: string;
  record: string;
  emulatorState: string;
}

export function labPaths(dataDir: string): LabPaths {
  const dir = join(dataDir, 'lab');
  return { dir, record: join(dir, 'lab.json'), emulatorState: join(dir, 'pfrest-state.json') };
}

export function readLabRecord(paths: LabPaths): LabRecord | null {
  try {
    return JSON.parse(readFileSync(paths.record, 'utf8')) as LabRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${paths.record} is unreadable (${(err as Error).message}); remove it to start a fresh lab`);
  }
}

export function writeLabRecord(paths: LabPaths, record: LabRecord): void {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const tmp = `${paths.record}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, paths.record);
}

interface RunningLabEmulator {
  emulator: PfRestEmulator;
  record: LabRecord;
  /** The emulator could not get its recorded port back and listens elsewhere now (the gateway URL must follow). */
  portChanged: boolean;
}

/**
 * Starts the lab emulator from its record (or a fresh one). The recorded port is tried first; when another
 * process holds it, any free port is taken and `portChanged` says so.
 */
export async function startLabEmulator(
  paths: LabPaths,
  options: { applyDelayMs?: number } = {},
): Promise<RunningLabEmulator> {
  const previous = readLabRecord(paths);
  const record: LabRecord = previous ?? {
    port: 0,
    apiKey: randomBytes(24).toString('hex'),
    certificate: await generateCertificate({ commonName: 'portcullis-lab' }),
    gatewayId: null,
    knocId: null,
  };
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const start = (port: number) =>
    startPfRestEmulator({
      host: LAB_HOST,
      port,
      apiKey: record.apiKey,
      certificate: record.certificate,
      stateFile: paths.emulatorState,
      applyDelayMs: options.applyDelayMs ?? 0,
    });
  let emulator: PfRestEmulator;
  try {
    emulator = await start(record.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    emulator = await start(0);
  }
  const portChanged = previous !== null && emulator.port !== previous.port;
  const updated = { ...record, port: emulator.port };
  writeLabRecord(paths, updated);
  return { emulator, record: updated, portChanged };
}
