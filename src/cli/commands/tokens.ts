/**
 * @module `portcullis tokens create|list|revoke`: API tokens of the caller, through a running server. The
 * new token is printed once; the server only keeps its hash.
 */
import type { Command } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { ApiClient, OPTION_HELP, runCli } from '../client.ts';

interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  permissions: string[] | null;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

/** Accepts an ISO timestamp or a duration such as `90d`, `12h`, `30m`. */
function parseExpiry(value: string, now = Date.now()): string {
  const duration = /^(\d+)([mhd])$/.exec(value);
  if (duration) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 'm' | 'h' | 'd'];
    return new Date(now + Number(duration[1]) * unit).toISOString();
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new Error(`--expires must be an ISO time or a duration like 90d, got "${value}".`);
  return date.toISOString();
}

export function registerTokensCommands(program: Command): void {
  const tokens = program.command('tokens').description('Manage your API tokens on a running server');

  tokens
    .command('create')
    .description('Create an API token (printed once)')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--expires <when>', 'ISO time or duration (e.g. 90d, 12h)')
    .option('--permission <code...>', 'limit the token to these permissions (default: all of yours)')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json)
    .action(async (opts) =>
      runCli(opts.json, async () => {
        const created = await new ApiClient(opts).request<{ token: string; api_token: ApiToken }>(
          'POST',
          '/api/v1/auth/tokens',
          {
            name: opts.name,
            ...(opts.expires ? { expires_at: parseExpiry(opts.expires) } : {}),
            ...(opts.permission ? { permissions: opts.permission } : {}),
          },
        );
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(created)}\n`);
          return;
        }
        process.stdout.write(`Created token "${created.api_token.name}" (${created.api_token.id}).\n`);
        process.stdout.write(`Token (shown once): ${created.token}\n`);
      }),
    );

  tokens
    .command('list')
    .description('List your API tokens (never their secrets)')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json)
    .action(async (opts) =>
      runCli(opts.json, async () => {
        const { items } = await new ApiClient(opts).request<{ items: ApiToken[] }>(
          'GET',
          '/api/v1/auth/tokens',
        );
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(items)}\n`);
          return;
        }
        const table = new Table({ head: ['Name', 'Prefix', 'Permissions', 'Expires', 'Revoked', 'Id'] });
        for (const t of items) {
          table.push([
            t.name,
            t.prefix,
            t.permissions?.join(' ') ?? '(all of yours)',
            t.expires_at ?? 'never',
            t.revoked_at ?? '',
            t.id,
          ]);
        }
        process.stdout.write(`${table.toString()}\n`);
      }),
    );

  tokens
    .command('revoke')
    .description('Revoke one of your API tokens')
    .argument('<id>', 'token id')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json)
    .action(async (id, opts) =>
      runCli(opts.json, async () => {
        await new ApiClient(opts).request('DELETE', `/api/v1/auth/tokens/${encodeURIComponent(id)}`);
        process.stdout.write(opts.json ? `${JSON.stringify({ revoked: id })}\n` : `Revoked token ${id}.\n`);
      }),
    );
}
