/**
 * @module `portcullis firewall backup|restore`: the firewall module's portable backup (gateways without
 * credentials, rules, NAT, VPN) through a running server, for scripts. `backup` writes the JSON document to
 * `--out` (or stdout); `restore` reads it from a file (or `-` for stdin) and prints what was restored.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { ApiClient, OPTION_HELP, runCli } from '../client.ts';
import { registerFirewallTableCommands } from './firewall-manage.ts';

interface RestoreResult {
  sites_created: number;
  sites_reused: number;
  gateways: number;
  firewall_rules: number;
  nat_rules: number;
  vpn_tunnels: number;
}

export function registerFirewallCommands(program: Command): void {
  const firewall = program
    .command('firewall')
    .description('Firewall module on a running server: tables, settings, backup and restore');
  registerFirewallTableCommands(firewall);

  firewall
    .command('backup')
    .description('Download the firewall module as one JSON document (no credentials)')
    .option('--out <file>', 'write to this file (default: stdout)')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .action(async (opts) =>
      runCli(false, async () => {
        const backup = await new ApiClient(opts).request<Record<string, unknown>>('GET', '/api/v1/firewall/backup');
        const text = `${JSON.stringify(backup, null, 2)}\n`;
        if (opts.out) writeFileSync(opts.out, text, { mode: 0o600 });
        else process.stdout.write(text);
      }),
    );

  firewall
    .command('restore')
    .description('Restore a backup into the server (all or nothing; ids must not exist yet)')
    .argument('<file>', 'the backup file, or - for stdin')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json)
    .action(async (file, opts) =>
      runCli(opts.json, async () => {
        let doc: unknown;
        try {
          doc = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
        } catch (err) {
          throw new Error(`cannot read a JSON backup from ${file}: ${(err as Error).message}`);
        }
        const result = await new ApiClient(opts).request<RestoreResult>('POST', '/api/v1/firewall/restore', doc);
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else {
          process.stdout.write(
            `restored ${result.gateways} gateway(s), ${result.firewall_rules} rule(s), ${result.nat_rules} NAT rule(s), ` +
              `${result.vpn_tunnels} VPN tunnel(s); sites: ${result.sites_created} created, ${result.sites_reused} reused\n` +
              'restored gateways have no API key: set one with PATCH /api/v1/firewall/gateways/{id}\n',
          );
        }
      }),
    );
}
