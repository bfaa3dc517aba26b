/**
 * @module The registry of encrypted columns. Every column holding a keyring ciphertext is named `*_enc` and is
 * listed here, so `reencryptAll` (key rotation) reaches every secret; a test fails when a schema column ends in
 * `_enc` but is missing from this list. Later domains (gateway API keys, feed keys, …) add their line here.
 */
import { getTableName } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { gateways } from '../store/schema/access.ts';
import { webhooks } from '../store/schema/events.ts';
import { pendingChanges } from '../store/schema/firewall.ts';
import { users } from '../store/schema/identity.ts';
import { identityProviders } from '../store/schema/sso.ts';
import { aadFor } from './keyring.ts';

export interface EncryptedColumn {
  table: PgTable;
  /** The row's primary key column; its value is part of the AAD. */
  id: AnyPgColumn;
  column: AnyPgColumn;
}

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: users, id: users.id, column: users.totpSecretEnc },
  { table: gateways, id: gateways.id, column: gateways.apiKeyEnc },
  { table: webhooks, id: webhooks.id, column: webhooks.secretEnc },
  { table: pendingChanges, id: pendingChanges.id, column: pendingChanges.payloadSecretsEnc },
  { table: identityProviders, id: identityProviders.id, column: identityProviders.clientSecretEnc },
];

/** The AAD binding a secret to `table:rowId:column` (SQL names), e.g. `users:<uuid>:totp_secret_enc`. */
export function aadForColumn(entry: Pick<EncryptedColumn, 'table' | 'column'>, rowId: string): string {
  return aadFor(getTableName(entry.table), rowId, entry.column.name);
}
