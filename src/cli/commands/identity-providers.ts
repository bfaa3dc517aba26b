/**
 * @module `portcullis identity-providers list|show|create|update|delete`: the OpenID Connect and SAML providers
 * people sign in with, through a running server (docs/sso.md). Fields come from `--data` like every resource
 * command; the OIDC client secret only from `--client-secret-file <path>` or `-` (stdin), so it never sits on a
 * command line (visible to other users in the process list) or in shell history, and no answer prints it (the
 * API says only `has_client_secret`).
 */
import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { connected, perform, readData, registerResource } from '../resources.ts';

const PATH = '/api/v1/identity-providers';
const COLUMNS = ['id', 'name', 'kind', 'audience', 'enabled', 'issuer', 'client_id', 'has_client_secret', 'provision'];
/** `show` adds the URLs to register at the provider. */
const SHOW_COLUMNS = [...COLUMNS, 'saml_entry_point', 'group_claim', 'endpoints'];

interface SecretOptions {
  data: string;
  clientSecretFile?: string;
}

/** The secret in a file or on stdin (`-`), without the line break an editor or `echo` leaves at its end. */
function readSecret(source: string): string {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new Error(`cannot read --client-secret-file ${source}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new Error(`--client-secret-file ${source} is empty`);
  return secret;
}

/** The request body: `--data`'s fields plus the secret read from its file. */
function bodyOf(opts: SecretOptions): Record<string, unknown> {
  if (opts.data === '-' && opts.clientSecretFile === '-') {
    throw new Error('--data and --client-secret-file cannot both read stdin');
  }
  const data = readData(opts.data);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('--data is not a JSON object');
  const body = { ...(data as Record<string, unknown>) };
  // A string secret in --data would be in the process list and shell history; null (remove it) is harmless.
  if (typeof body.client_secret === 'string') {
    throw new Error('client_secret is not taken from --data; pass --client-secret-file <path> or - for stdin');
  }
  if (opts.clientSecretFile !== undefined) body.client_secret = readSecret(opts.clientSecretFile);
  return body;
}

const SECRET_HELP = 'the OIDC client secret: a file holding it, or - for stdin';

export function registerIdentityProviderCommands(program: Command): void {
  const providers = registerResource(program, {
    name: 'identity-providers',
    path: PATH,
    description: 'OpenID Connect and SAML identity providers (sign-in to the portal or the console)',
    columns: COLUMNS,
    operations: ['list', 'delete'],
  });
  connected(providers.command('show').description('Show one by id, with the URLs to register at the provider'))
    .argument('<id>')
    .action((id, opts) => perform(opts, SHOW_COLUMNS, (c) => c.request('GET', `${PATH}/${encodeURIComponent(id)}`)));
  connected(providers.command('create').description('Add a provider from a JSON body (name, kind, audience, …)'))
    .requiredOption('--data <json>', 'the body: JSON text, @file, or - for stdin')
    .option('--client-secret-file <path>', SECRET_HELP)
    .action((opts) => perform(opts, SHOW_COLUMNS, (c) => c.request('POST', PATH, bodyOf(opts))));
  connected(providers.command('update').description('Change a provider (only the fields given)').argument('<id>'))
    .option('--data <json>', 'the changed fields: JSON text, @file, or - for stdin', '{}')
    .option('--client-secret-file <path>', SECRET_HELP)
    .action((id, opts) =>
      perform(opts, SHOW_COLUMNS, (c) => c.request('PATCH', `${PATH}/${encodeURIComponent(id)}`, bodyOf(opts))),
    );
}
