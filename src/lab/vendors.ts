/**
 * @module The lab's emulators, one entry per vendor (docs/lab.md, docs/adr/0211-vendor-neutral-lab.md): the vendor
 * id (a registered vendor, src/adapters/vendors.ts) → how to start its emulator on loopback from what the lab keeps
 * in `<data>/lab/`. `PORTCULLIS_LAB_VENDORS` picks which run (default: the first entry). Adding a vendor's
 * emulator to the lab is one file `src/lab/<vendor>.ts` exporting a `LabEmulator` and one line below.
 */
import type { Credentials } from '../adapters/registry.ts';
import type { EmulatorCertificate } from '../emulators/tls.ts';
import { openwrtLab } from './openwrt.ts';
import { opnsenseLab } from './opnsense.ts';
import { pfsenseLab } from './pfsense.ts';
import { routerOsLab } from './routeros.ts';

/** What the lab gives an emulator to start it again as the same box. */
export interface LabEmulatorStart {
  host: string;
  /** The recorded port (0: any free one). */
  port: number;
  /** The credentials the gateway was registered with (from `newCredentials` on the first start). */
  credentials: Credentials;
  certificate: EmulatorCertificate;
  /** The emulator's state file (its configuration survives restarts). */
  stateFile: string;
}

/** A running lab emulator. */
export interface LabBoxHandle {
  url: string;
  port: number;
  /** SHA-256 certificate fingerprint (the gateway pins it). */
  fingerprint: string;
  close(): Promise<void>;
}

export interface LabEmulator {
  /** The vendor id it emulates (a registered vendor). */
  vendor: string;
  /** What runs, for the banner (product and emulator). */
  describe: string;
  /** The state file's name under `<data>/lab/`. */
  stateFile: string;
  /** Fresh credentials for a first start, in the vendor's credential shape. */
  newCredentials(): Credentials;
  start(options: LabEmulatorStart): Promise<LabBoxHandle>;
  /** The demo knoc's list name when `portcullis_lab` does not fit the vendor's naming rules. */
  aliasName?: string;
}

/** Every lab emulator, the default one first. */
export const LAB_EMULATORS: readonly LabEmulator[] = [pfsenseLab, opnsenseLab, routerOsLab, openwrtLab];

/** The lab emulators of `ids` in that order (null: the default one); an unknown id throws, naming the known ones. */
export function labEmulators(ids: readonly string[] | null): LabEmulator[] {
  if (ids === null || ids.length === 0) return LAB_EMULATORS.slice(0, 1);
  return ids.map((id) => {
    const found = LAB_EMULATORS.find((lab) => lab.vendor === id);
    if (found === undefined) {
      throw new Error(
        `PORTCULLIS_LAB_VENDORS: no lab emulator for vendor "${id}" (known: ${LAB_EMULATORS.map((l) => l.vendor).join(', ')})`,
      );
    }
    return found;
  });
}
