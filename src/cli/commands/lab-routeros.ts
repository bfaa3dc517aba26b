/**
 * @module `portcullis lab routeros`: runs the RouterOS v7 REST emulator on its own (HTTPS `www-ssl` with a
 * self-signed certificate, or plain `www` with `--http`) and prints its URL, user, password and certificate
 * fingerprint, then keeps running until interrupted (docs/reference/routeros-api.md §8).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { startRouterOsEmulator } from '../../emulators/routeros/index.ts';

function nonNegativeInt(flag: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > max)
      throw new InvalidArgumentError(`${flag} must be an integer 0-${max}, got "${value}"`);
    return Number(value);
  };
}

export function registerRouterOsLab(lab: Command): void {
  lab
    .command('routeros')
    .description('Run an emulated MikroTik RouterOS v7 with the REST API (HTTPS on loopback, self-signed certificate)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on, 0 for any free one', nonNegativeInt('--port', 65535), 0)
    .option('--http', 'serve plain http (the `www` service) instead of HTTPS (`www-ssl`)')
    .option('--user <name>', 'user name to accept', 'admin')
    .option('--password <password>', 'password to accept (default: random)')
    .option('--latency-ms <ms>', 'processing time per request (requests are handled one at a time)', nonNegativeInt('--latency-ms', 600_000), 0)
    .option('--ros-version <version>', 'RouterOS version to report', '7.16.2 (stable)')
    .option('--state-file <file>', 'JSON file the persistent configuration survives restarts in')
    .option('--json', 'print the connection details as one JSON line')
    .addHelpText(
      'after',
      '\nTest hooks (no credentials, outside /rest): GET /__emulator/state, GET|DELETE /__emulator/requests,\n' +
        'GET|DELETE /__emulator/max-in-flight, POST /__emulator/advance {"ms":N}, POST /__emulator/reboot,\n' +
        'POST|DELETE /__emulator/faults {"kind":"status|hang|drop|html|bad-json|control-chars|session-closed|slow|raw","times":N},\n' +
        'POST /__emulator/connections {"srcAddress":"ip[:port]"}, POST /__emulator/log {"message":"..."},\n' +
        'POST /__emulator/users {"name","password","policies":[...]}, POST /__emulator/dynamic-rules {"menu","values"}.\n' +
        'See docs/reference/routeros-api.md §8.',
    )
    .action(async (opts) => {
      try {
        const password = opts.password ?? randomBytes(9).toString('base64url');
        const emu = await startRouterOsEmulator({
          host: opts.host,
          port: opts.port,
          tls: opts.http !== true,
          users: [{ name: opts.user, password }],
          latencyMs: opts.latencyMs,
          version: opts.rosVersion,
          ...(opts.stateFile !== undefined ? { stateFile: resolve(opts.stateFile) } : {}),
        });
        const details = {
          url: emu.url,
          username: emu.credentials.username,
          password: emu.credentials.password,
          fingerprint: emu.fingerprint,
        };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(details)}\n`);
        } else {
          process.stdout.write(
            `RouterOS REST emulator listening\n  URL:         ${details.url}/rest\n  User:        ${details.username}\n` +
              `  Password:    ${details.password}\n  Fingerprint: ${details.fingerprint ?? '(plain http)'}\n\nPress Ctrl-C to stop.\n`,
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
        process.stderr.write(`portcullis lab routeros: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
    });
}
