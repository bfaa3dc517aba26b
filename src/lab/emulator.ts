/**
 * @module The emulated lab's boxes: each chosen vendor's emulator (src/lab/vendors.ts) started in-process on
 * loopback with everything a registered gateway depends on kept in the data directory (`<data>/lab/`), so a
 * restart brings back the same box — same credentials, same certificate (the gateway pins its fingerprint), same
 * port when it is free, same configuration (the emulator's state file).
 *
 * `lab.json` holds the credentials and the certificates' private keys: it is written with mode 0600, like the keyring.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials } from '../adapters/registry.ts';
import { type EmulatorCertificate, generateCertificate } from '../emulators/tls.ts';
import type { LabBoxHandle, LabEmulator } from './vendors.ts';

export const LAB_HOST = '127.0.0.1';

/** What `lab.json` records of one vendor's box. */
export interface LabBoxRecord {
  port: number;
  credentials: Credentials;
  certificate: EmulatorCertificate;
  /** Set once the lab gateway and demo knoc were registered; the lab never registers twice. */
  gatewayId: string | null;
  knocId: string | null;
}

/** `lab.json`: the boxes by vendor id; `legacy` is a one-box record written before the lab had several vendors. */
export interface LabRecord {
  boxes: Record<string, LabBoxRecord>;
  legacy?: LabBoxRecord;
}

interface LabPaths {
  dir: string;
  record: string;
}

export function labPaths(dataDir: string): LabPaths {
  const dir = join(dataDir, 'lab');
  return { dir, record: join(dir, 'lab.json') };
}

export function readLabRecord(paths: LabPaths): LabRecord | null {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(paths.record, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${paths.record} is unreadable (${(err as Error).message}); remove it to start a fresh lab`);
  }
  if (parsed.boxes !== undefined) return parsed as unknown as LabRecord;
  // The one-box file of earlier versions: an API key at the top level.
  const old = parsed as unknown as Omit<LabBoxRecord, 'credentials'> & { apiKey: string };
  const { apiKey, port, certificate, gatewayId, knocId } = old;
  return { boxes: {}, legacy: { port, credentials: { api_key: apiKey }, certificate, gatewayId, knocId } };
}

export function writeLabRecord(paths: LabPaths, record: LabRecord): void {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const tmp = `${paths.record}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ boxes: record.boxes }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, paths.record);
}

interface RunningLabBox {
  handle: LabBoxHandle;
  record: LabBoxRecord;
  /** The emulator could not get its recorded port back and listens elsewhere now (the gateway URL must follow). */
  portChanged: boolean;
}

/**
 * Starts one vendor's lab emulator from its record (or a fresh one). The recorded port is tried first; when
 * another process holds it, any free port is taken and `portChanged` says so. The caller records the result.
 */
export async function startLabBox(
  paths: LabPaths,
  lab: LabEmulator,
  previous: LabBoxRecord | undefined,
): Promise<RunningLabBox> {
  const record: LabBoxRecord = previous ?? {
    port: 0,
    credentials: lab.newCredentials(),
    certificate: await generateCertificate({ commonName: `portcullis-lab-${lab.vendor}` }),
    gatewayId: null,
    knocId: null,
  };
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const start = (port: number) =>
    lab.start({
      host: LAB_HOST,
      port,
      credentials: record.credentials,
      certificate: record.certificate,
      stateFile: join(paths.dir, lab.stateFile),
    });
  let handle: LabBoxHandle;
  try {
    handle = await start(record.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    handle = await start(0);
  }
  const portChanged = previous !== undefined && handle.port !== previous.port;
  return { handle, record: { ...record, port: handle.port }, portChanged };
}
