/**
 * @module `portcullis users create|list`: manages users through a running server's API (needs a token with
 * `users.manage`). Human tables by default, `--json` for scripts.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { ApiClient, OPTION_HELP, runCli } from '../client.ts';

interface User {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  disabled: boolean;
  totp_enabled: boolean;
  created_at: string;
}

interface Role {
  id: string;
  name: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerUsersCommands(program: Command): void {
  const users = program.command('users').description('Manage users on a running server');

  users
    .command('create')
    .description('Create a user (a random password is generated and printed once unless --password-stdin)')
    .argument('<username>', 'login name')
    .option('--display-name <name>', 'display name')
    .option('--email <email>', 'e-mail address')
    .option('--password-stdin', 'read the password from standard input')
    .option('--role <role>', 'bind this role (name, e.g. viewer, operator, admin)')
    .option('--site <id...>', 'limit the role binding to these site ids')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json)
    .action(async (username, opts) =>
      runCli(opts.json, async () => {
        const client = new ApiClient(opts);
        const generated = !opts.passwordStdin;
        const password = generated ? randomBytes(15).toString('base64url') : await readStdin();
        let role: Role | undefined;
        if (opts.role) {
          const roles = await client.request<{ items: Role[] }>('GET', '/api/v1/roles');
          role = roles.items.find((r) => r.name === opts.role);
          if (!role)
            throw new Error(
              `No role named "${opts.role}" (known: ${roles.items.map((r) => r.name).join(', ')}).`,
            );
        }
        const user = await client.request<User>('POST', '/api/v1/users', {
          username,
          password,
          ...(opts.displayName ? { display_name: opts.displayName } : {}),
          ...(opts.email ? { email: opts.email } : {}),
        });
        if (role) {
          await client.request('POST', '/api/v1/role-bindings', {
            role_id: role.id,
            user_id: user.id,
            ...(opts.site ? { site_ids: opts.site } : {}),
          });
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ user, ...(generated ? { password } : {}) })}\n`);
          return;
        }
        process.stdout.write(
          `Created user ${user.username} (${user.id})${role ? ` with role ${role.name}` : ''}.\n`,
        );
        if (generated) process.stdout.write(`Password (shown once): ${password}\n`);
      }),
    );

  users
    .command('list')
    .description('List users')
    .option('--url <url>', OPTION_HELP.url)
    .option('--token <token>', OPTION_HELP.token)
    .option('--json', OPTION_HELP.json)
    .action(async (opts) =>
      runCli(opts.json, async () => {
        const { items } = await new ApiClient(opts).request<{ items: User[] }>(
          'GET',
          '/api/v1/users?limit=500',
        );
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(items)}\n`);
          return;
        }
        const table = new Table({ head: ['Username', 'Display name', 'Email', 'TOTP', 'Disabled', 'Id'] });
        for (const u of items) {
          table.push([
            u.username,
            u.display_name,
            u.email ?? '',
            u.totp_enabled ? 'yes' : 'no',
            u.disabled ? 'yes' : 'no',
            u.id,
          ]);
        }
        process.stdout.write(`${table.toString()}\n`);
      }),
    );
}
