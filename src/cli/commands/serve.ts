/**
 * @module `portcullis serve`: runs the server (API, docs, metrics, background work) on the embedded store
 * or PostgreSQL. Flags override the `PORTCULLIS_*` environment.
 */
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { loadConfig } from '../../config.ts';

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new Error(`--port must be 0-65535, got "${value}"`);
  return Number(value);
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the Portcullis server (default http://127.0.0.1:8080, data in ./data)')
    .option('--host <host>', 'address to listen on (default $PORTCULLIS_HOST or 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free one (default $PORTCULLIS_PORT or 8080)', port)
    .option(
      '--data-dir <dir>',
      'data directory for the embedded store and keys (default $PORTCULLIS_DATA_DIR or ./data)',
    )
    .addHelpText(
      'after',
      '\nEnvironment: PORTCULLIS_DATABASE_URL (PostgreSQL instead of the embedded store), PORTCULLIS_BOOTSTRAP_ADMIN\n' +
        '(user:password of the first owner), PORTCULLIS_LOG_LEVEL, PORTCULLIS_TRUST_PROXY, PORTCULLIS_SECURE_COOKIES,\n' +
        'PORTCULLIS_BODY_LIMIT, PORTCULLIS_SESSION_TTL, PORTCULLIS_SECRET_KEYS. See docs/api.md.',
    )
    .action(async (opts) => {
      try {
        const config = loadConfig(process.env, {
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.dataDir !== undefined ? { dataDir: resolve(opts.dataDir) } : {}),
        });
        // Loaded here, not at the top: other commands (and --help) should not pay for the server's modules.
        const { serve } = await import('../../server/serve.ts');
        await serve(config);
      } catch (err) {
        process.stderr.write(`portcullis serve: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
    });
}
