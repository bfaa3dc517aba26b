/**
 * @module `portcullis lab opnsense`: runs the OPNsense emulator on its own (HTTPS with a self-signed certificate,
 * or plain HTTP) and prints its URL, API key, secret and certificate fingerprint, then keeps running until
 * interrupted (docs/reference/opnsense-api.md §8).
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { startOpnsenseEmulator, VERSION_PROFILES, type VersionProfile } from '../../emulators/opnsense/index.ts';

function nonNegativeInt(flag: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > max)
      throw new InvalidArgumentError(`${flag} must be an integer 0-${max}, got "${value}"`);
    return Number(value);
  };
}

function versionProfile(value: string): VersionProfile {
  if (!(VERSION_PROFILES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`--version must be one of ${VERSION_PROFILES.join(', ')}, got "${value}"`);
  }
  return value as VersionProfile;
}

export function registerOpnsenseLab(lab: Command): void {
  lab
    .command('opnsense')
    .description('Run an emulated OPNsense API (HTTPS on loopback, self-signed certificate)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on, 0 for any free one', nonNegativeInt('--port', 65535), 0)
    .option('--firmware <version>', `firmware profile (${VERSION_PROFILES.join(', ')})`, versionProfile, '26.1.11' as VersionProfile)
    .option(
      '--apply-delay-ms <ms>',
      'how long a filter reload or alias reconfigure takes',
      nonNegativeInt('--apply-delay-ms', 600_000),
      0,
    )
    .option('--table-entries-limit <n>', 'Firewall Maximum Table Entries', nonNegativeInt('--table-entries-limit', 100_000_000), 1_000_000)
    .option('--key <key>', 'API key to accept (default: random)')
    .option('--secret <secret>', 'API secret of that key (default: random)')
    .option('--state-file <file>', 'JSON file the configuration survives restarts in')
    .option('--no-tls', 'plain HTTP instead of HTTPS')
    .option('--json', 'print the connection details as one JSON line')
    .addHelpText(
      'after',
      '\nTest hooks (no credentials, outside /api): GET /__emulator/state, GET|DELETE /__emulator/requests,\n' +
        'POST /__emulator/advance {"ms":N}, POST /__emulator/reboot, POST /__emulator/restart-firewall,\n' +
        'POST|DELETE /__emulator/faults {"kind":"status|hang|drop|bad-body|raw|user-exception","times":N},\n' +
        'PUT /__emulator/states {"states":[...]}, POST /__emulator/keys, POST /__emulator/log, POST /__emulator/alerts.\n' +
        'See docs/reference/opnsense-api.md §8.',
    )
    .action(async (opts) => {
      try {
        const keySpec =
          opts.key !== undefined || opts.secret !== undefined
            ? [{ key: opts.key ?? 'portcullis-lab-key', secret: opts.secret ?? 'portcullis-lab-secret' }]
            : undefined;
        const emu = await startOpnsenseEmulator({
          host: opts.host,
          port: opts.port,
          version: opts.firmware,
          applyDelayMs: opts.applyDelayMs,
          tableEntriesLimit: opts.tableEntriesLimit,
          tls: opts.tls,
          ...(keySpec ? { keys: keySpec } : {}),
          ...(opts.stateFile !== undefined ? { stateFile: resolve(opts.stateFile) } : {}),
        });
        const details = {
          url: emu.url,
          key: emu.credentials.key,
          secret: emu.credentials.secret,
          fingerprint: emu.fingerprint,
          version: emu.version,
        };
        if (opts.json) process.stdout.write(`${JSON.stringify(details)}\n`);
        else {
          process.stdout.write(
            `OPNsense emulator (firmware ${emu.version}) listening\n  URL:         ${emu.url}\n  API key:     ${details.key}\n` +
              `  API secret:  ${details.secret}\n  Fingerprint: ${emu.fingerprint || '(plain HTTP)'}\n\nPress Ctrl-C to stop.\n`,
          );
        }
        const stop = () => {
          emu.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      } catch (err) {
        process.stderr.write(`portcullis lab opnsense: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
    });
}
