/**
 * @module `portcullis migrate`: applies the schema migrations (and syncs the built-in roles) directly on the
 * store — the embedded PGlite in the data directory, or PostgreSQL. Safe to run from several nodes at once
 * (advisory lock). Fails clearly when a running server holds the embedded store.
 */
import type { Command } from '@commander-js/extra-typings';
import { ensureBuiltinRoles } from '../../identity/roles.ts';
import { describeLocation, openStore, storeLocation } from '../../store/open.ts';
import { DEFAULT_ORG_ID } from '../../store/schema/tenancy.ts';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply database migrations to the store (direct access; no server needed)')
    .option(
      '--data-dir <dir>',
      'data directory of the embedded store (default $PORTCULLIS_DATA_DIR or ./data)',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL URL instead of the embedded store (default $PORTCULLIS_DATABASE_URL)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts) => {
      try {
        const location = storeLocation(opts);
        const store = await openStore(
          location.url ? { url: location.url, poolSize: 1 } : { dataDir: location.dataDir },
        );
        try {
          await ensureBuiltinRoles(store.db, DEFAULT_ORG_ID);
          const report = store.migration ?? { applied: 0, total: 0 };
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({ store: store.kind, applied: report.applied, total: report.total })}\n`,
            );
          } else {
            const what =
              report.applied === 0 ? 'Schema is up to date' : `Applied ${report.applied} migration(s)`;
            process.stdout.write(`${what} (${report.total} in total) — ${describeLocation(location)}\n`);
          }
        } finally {
          await store.close();
        }
      } catch (err) {
        process.stderr.write(`portcullis migrate: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
