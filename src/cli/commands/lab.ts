/**
 * @module `portcullis lab pfsense`: runs the pfRest v2 emulator on its own (HTTPS, self-signed certificate) and
 * prints its URL, API key and certificate fingerprint, then keeps running until interrupted.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { startPfRestEmulator } from '../../emulators/pfrest/index.ts';
import { registerOpnsenseLab } from './lab-opnsense.ts';

function nonNegativeInt(flag: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > max)
      throw new InvalidArgumentError(`${flag} must be an integer 0-${max}, got "${value}"`);
    return Number(value);
  };
}

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('Run emulated vendor firewalls for demos and tests');
  registerOpnsenseLab(lab);
  lab
    .command('pfsense')
    .description(
      'Run an emulated pfSense with the pfRest v2 API (HTTPS on loopback, self-signed certificate)',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on, 0 for any free one', nonNegativeInt('--port', 65535), 0)
    .option(
      '--apply-delay-ms <ms>',
      'how long a filter reload takes (async applies stay pending meanwhile)',
      nonNegativeInt('--apply-delay-ms', 600_000),
      0,
    )
    .option('--key <key>', 'API key to accept (default: a random 48-hex-digit key)')
    .option('--state-file <file>', 'JSON file the configuration survives restarts in')
    .option('--json', 'print the connection details as one JSON line')
    .addHelpText(
      'after',
      '\nTest hooks (no credentials, outside /api/v2): GET /__emulator/state, GET|DELETE /__emulator/requests,\n' +
        'POST /__emulator/reset, POST|DELETE /__emulator/faults {"kind":"status|hang|stall-body|drop|non-json|package-absent|key-auth-disabled|raw","times":N},\n' +
        'POST /__emulator/keys {"privileges":[...]}, PUT /__emulator/states {"states":[...]}, PATCH /__emulator/settings.\n' +
        'BasicAuth user: admin / pfsense. See docs/pfsense.md.',
    )
    .action(async (opts) => {
      try {
        const emu = await startPfRestEmulator({
          host: opts.host,
          port: opts.port,
          applyDelayMs: opts.applyDelayMs,
          ...(opts.key !== undefined ? { apiKey: opts.key } : {}),
          ...(opts.stateFile !== undefined ? { stateFile: resolve(opts.stateFile) } : {}),
        });
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ url: emu.url, apiKey: emu.apiKey, fingerprint: emu.fingerprint })}\n`,
          );
        } else {
          process.stdout.write(
            `pfRest emulator listening\n  URL:         ${emu.url}\n  API key:     ${emu.apiKey}\n  Fingerprint: ${emu.fingerprint}\n\n` +
              `Try: portcullis gateway test --vendor pfsense --url ${emu.url} --api-key ${emu.apiKey} --fingerprint ${emu.fingerprint}\n` +
              'Press Ctrl-C to stop.\n',
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
        process.stderr.write(`portcullis lab pfsense: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
    });
}
