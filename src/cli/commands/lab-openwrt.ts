/**
 * @module `portcullis lab openwrt`: runs the OpenWrt (uhttpd-mod-ubus + rpcd + UCI + firewall4) emulator on its
 * own and prints its URL, login, password and certificate fingerprint, then keeps running until interrupted
 * (docs/reference/openwrt-api.md §8).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { startOpenWrtEmulator } from '../../emulators/openwrt/index.ts';

function nonNegativeInt(flag: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > max)
      throw new InvalidArgumentError(`${flag} must be an integer 0-${max}, got "${value}"`);
    return Number(value);
  };
}

export function registerOpenWrtLab(lab: Command): void {
  lab
    .command('openwrt')
    .description('Run an emulated OpenWrt router with the ubus JSON-RPC API (HTTPS on loopback, self-signed certificate)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on, 0 for any free one', nonNegativeInt('--port', 65535), 0)
    .option('--http', 'serve plain HTTP instead of HTTPS (like uhttpd on port 80)')
    .option('--user <name>', 'login name (granted every ACL group)', 'root')
    .option('--password <password>', 'login password (default: random)')
    .option(
      '--session-timeout <s>',
      'idle session timeout in seconds (rpcd default 300)',
      nonNegativeInt('--session-timeout', 86_400),
      300,
    )
    .option(
      '--reload-delay-ms <ms>',
      'delay before procd runs fw4 reload after a firewall commit',
      nonNegativeInt('--reload-delay-ms', 600_000),
      100,
    )
    .option('--release <version>', 'OpenWrt release system.board reports', '23.05.5')
    .option('--state-file <file>', 'JSON file the UCI configuration survives restarts in')
    .option('--json', 'print the connection details as one JSON line')
    .addHelpText(
      'after',
      '\nA second, least-privilege login "portcullis" (uci firewall, nft/fw4/conntrack exec) is printed too.\n' +
        'Test hooks (no credentials, outside /ubus): GET /__emulator/state, GET|DELETE /__emulator/requests,\n' +
        'POST|DELETE /__emulator/faults {"kind":"status|hang|drop|bad-body|ubus-timeout|ubus-status|exec-fail|session-expire","times":N},\n' +
        'POST /__emulator/advance {"ms":N}, POST /__emulator/reboot, POST /__emulator/restart-firewall,\n' +
        'POST /__emulator/connections {"proto","src","dst"}. See docs/reference/openwrt-api.md §8.',
    )
    .action(async (opts) => {
      try {
        const password = opts.password ?? randomBytes(9).toString('base64url');
        const limited = randomBytes(9).toString('base64url');
        const emu = await startOpenWrtEmulator({
          host: opts.host,
          port: opts.port,
          tls: !opts.http,
          users: [
            { username: opts.user, password, read: ['*'], write: ['*'] },
            { username: 'portcullis', password: limited, read: ['portcullis'], write: ['portcullis'] },
          ],
          sessionTimeoutS: opts.sessionTimeout,
          reloadDelayMs: opts.reloadDelayMs,
          release: { version: opts.release, description: `OpenWrt ${opts.release}` },
          ...(opts.stateFile !== undefined ? { stateFile: resolve(opts.stateFile) } : {}),
        });
        const details = {
          url: emu.url,
          user: opts.user,
          password,
          fingerprint: emu.fingerprint,
          limitedUser: 'portcullis',
          limitedPassword: limited,
        };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(details)}\n`);
        } else {
          process.stdout.write(
            `OpenWrt emulator listening (POST ${emu.url}/ubus)\n` +
              `  URL:          ${emu.url}\n` +
              `  User:         ${opts.user}\n` +
              `  Password:     ${password}\n` +
              `  Fingerprint:  ${emu.fingerprint ?? '(plain HTTP)'}\n` +
              `  Limited user: portcullis / ${limited}\n\nPress Ctrl-C to stop.\n`,
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
        process.stderr.write(`portcullis lab openwrt: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
    });
}
