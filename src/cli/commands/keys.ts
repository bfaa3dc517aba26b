/**
 * @module `portcullis keys rotate|reencrypt`, directly on the store.
 *
 * - `rotate` adds a new active key to `<data-dir>/keys.json` and re-encrypts every registered encrypted column.
 * - `reencrypt` only re-encrypts under the current active key: for keys supplied through PORTCULLIS_SECRET_KEYS
 *   (the operator adds a key there and marks it active), or to finish an interrupted rotation.
 */
import type { Command } from '@commander-js/extra-typings';
import { record, SYSTEM_ACTOR } from '../../audit/record.ts';
import { Keyring } from '../../secrets/keyring.ts';
import { reencryptAll } from '../../secrets/reencrypt.ts';
import { describeLocation, openStore, storeLocation } from '../../store/open.ts';
import { DEFAULT_ORG_ID } from '../../store/schema/tenancy.ts';

interface KeysOptions {
  dataDir?: string;
  databaseUrl?: string;
  json?: true;
}

async function reencryptStore(command: 'rotate' | 'reencrypt', opts: KeysOptions): Promise<void> {
  const location = storeLocation(opts);
  const keyring = Keyring.load(location.dataDir);
  if (command === 'rotate' && !keyring.writable) {
    throw new Error(
      'keys come from PORTCULLIS_SECRET_KEYS: add a new key there, mark it active, restart, then run `portcullis keys reencrypt`',
    );
  }
  const store = await openStore(
    location.url ? { url: location.url, poolSize: 1 } : { dataDir: location.dataDir },
  );
  try {
    const previous = keyring.activeKid;
    const active = command === 'rotate' ? keyring.rotate() : previous;
    const report = await reencryptAll(store.db, keyring);
    await record(store.db, {
      orgId: DEFAULT_ORG_ID,
      actor: { ...SYSTEM_ACTOR, name: `portcullis keys ${command}` },
      action: `keys.${command}`,
      targetType: 'keyring',
      targetId: active,
      before: { active_kid: previous },
      after: { active_kid: active, reencrypted: report.total },
    });
    if (opts.json) {
      const result = {
        previous_kid: previous,
        active_kid: active,
        reencrypted: report.columns,
        total: report.total,
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const head =
        command === 'rotate' ? `New active key ${active} (was ${previous})` : `Active key ${active}`;
      process.stdout.write(
        `${head}; re-encrypted ${report.total} secret(s) — ${describeLocation(location)}\n`,
      );
    }
  } finally {
    await store.close();
  }
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('Manage the keys that encrypt secrets at rest');
  for (const [name, description] of [
    ['rotate', 'Add a new active key and re-encrypt every stored secret with it (direct store access)'],
    ['reencrypt', 'Re-encrypt every stored secret under the current active key (direct store access)'],
  ] as const) {
    keys
      .command(name)
      .description(description)
      .option(
        '--data-dir <dir>',
        'data directory with keys.json and the embedded store (default $PORTCULLIS_DATA_DIR or ./data)',
      )
      .option(
        '--database-url <url>',
        'PostgreSQL URL instead of the embedded store (default $PORTCULLIS_DATABASE_URL)',
      )
      .option('--json', 'print the result as JSON')
      .action(async (opts) => {
        try {
          await reencryptStore(name, opts);
        } catch (err) {
          process.stderr.write(
            `portcullis keys ${name}: ${err instanceof Error ? err.message : String(err)}\n`,
          );
          process.exitCode = 1;
        }
      });
  }
}
