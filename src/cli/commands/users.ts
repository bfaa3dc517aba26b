/**
 * @module `portcullis users create|list`: manages users through a running server's API (needs a token with
 * `users.manage`). Human tables by default, `--json` for scripts. `users reset-totp` works directly on the
 * store instead (like `keys` and `migrate`): it is the owner's way back in when their authenticator is lost
 * and no admin can sign in.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from '@commander-js/extra-typings';
import Table from 'cli-table3';
import { SYSTEM_ACTOR } from '../../audit/record.ts';
import { serviceContext } from '../../core/context.ts';
import { resetTotp } from '../../identity/mfa.ts';
import { findUserByUsername } from '../../identity/users.ts';
import { Keyring } from '../../secrets/keyring.ts';
import { describeLocation, openStore, storeLocation } from '../../store/open.ts';
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
  const users = program
    .command('users')
    .description('Manage users on a running server (reset-totp: directly on the store)');

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

  registerResetTotp(users);
}

/** Turns off the TOTP of `username` directly on the store; audited as the system, naming the command. */
async function resetTotpOnStore(
  username: string,
  opts: { dataDir?: string; databaseUrl?: string; json?: true },
): Promise<void> {
  const location = storeLocation(opts);
  const store = await openStore(
    location.url ? { url: location.url, poolSize: 1 } : { dataDir: location.dataDir },
  );
  try {
    const ctx = serviceContext(store.db, Keyring.load(location.dataDir), {
      actor: { ...SYSTEM_ACTOR, name: 'portcullis users reset-totp' },
    });
    const user = await findUserByUsername(ctx, username);
    if (!user) throw new Error(`no user named ${JSON.stringify(username)} in ${describeLocation(location)}`);
    const reset = await resetTotp(ctx, user.id);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ id: reset.id, username: reset.username, totp_enabled: false })}\n`);
    } else {
      process.stdout.write(
        `TOTP reset for ${reset.username}: they sign in with their password and may enrol again.\n`,
      );
    }
  } finally {
    await store.close();
  }
}

function registerResetTotp(users: Command): void {
  users
    .command('reset-totp')
    .description('Turn off a user’s TOTP after a lost authenticator (direct store access; audited)')
    .argument('<username>', 'login name')
    .option(
      '--data-dir <dir>',
      'data directory with keys.json and the embedded store (default $PORTCULLIS_DATA_DIR or ./data)',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL URL instead of the embedded store (default $PORTCULLIS_DATABASE_URL)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (username, opts) => {
      try {
        await resetTotpOnStore(username, opts);
      } catch (err) {
        process.stderr.write(
          `portcullis users reset-totp: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exitCode = 1;
      }
    });
}
