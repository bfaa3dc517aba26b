/**
 * @module `portcullis gateway test`: connects to a firewall with the given credentials and TLS trust, prints
 * its versions or the error code and message, and exits non-zero on failure.
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import type { TlsTrust } from '../../adapters/http.ts';
import { normalizeFingerprint } from '../../adapters/http.ts';
import { PfSenseAdapter } from '../../adapters/pfsense/index.ts';
import { AdapterError, type VersionInfo } from '../../adapters/types.ts';
import { cliEnvironment } from '../../config.ts';

interface TestOutcome {
  ok: boolean;
  version: VersionInfo | null;
  warnings: string[];
  error: { code: string; message: string } | null;
}

function timeout(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 600_000) {
    throw new InvalidArgumentError(`--timeout-ms must be an integer 1-600000, got "${value}"`);
  }
  return Number(value);
}

function fingerprint(value: string): string {
  try {
    return normalizeFingerprint(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

async function testPfSense(opts: {
  url: string;
  apiKey: string;
  tls: TlsTrust;
  timeoutMs: number;
}): Promise<TestOutcome> {
  let adapter: PfSenseAdapter;
  try {
    adapter = new PfSenseAdapter({
      url: opts.url,
      apiKey: opts.apiKey,
      tls: opts.tls,
      timeouts: { connectMs: opts.timeoutMs, headersMs: opts.timeoutMs, bodyMs: opts.timeoutMs },
      retry: { maxRetries: 0 },
    });
  } catch (err) {
    return {
      ok: false,
      version: null,
      warnings: [],
      error: { code: 'PFS000', message: `PFS000 invalid connection settings: ${(err as Error).message}` },
    };
  }
  try {
    const version = await adapter.version();
    return {
      ok: true,
      version: { product: version.product, api: version.api },
      warnings: adapter.warnings,
      error: null,
    };
  } catch (err) {
    const code = err instanceof AdapterError ? err.code : 'PFS400';
    return {
      ok: false,
      version: null,
      warnings: adapter.warnings,
      error: { code, message: (err as Error).message },
    };
  } finally {
    await adapter.close();
  }
}

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('Work with firewall gateways');
  gateway
    .command('test')
    .description('Test a connection to a firewall: prints its versions, or the error code and what to check')
    .addOption(
      new Option('--vendor <vendor>', 'firewall vendor').choices(['pfsense'] as const).makeOptionMandatory(),
    )
    .requiredOption('--url <url>', 'base URL with scheme, e.g. https://fw.example.net')
    .option(
      '--api-key <key>',
      'API key (default $PORTCULLIS_GATEWAY_API_KEY, which keeps it out of shell history)',
    )
    .addOption(
      new Option('--insecure', 'skip certificate verification (reported as a warning)').conflicts([
        'fingerprint',
        'ca',
      ]),
    )
    .addOption(
      new Option('--fingerprint <sha256>', 'pin the certificate SHA-256 fingerprint (AA:BB:… or hex)')
        .argParser(fingerprint)
        .conflicts(['ca']),
    )
    .option('--ca <file>', 'trust this PEM CA bundle instead of the system CAs')
    .option('--timeout-ms <ms>', 'connect, headers and body timeout each', timeout, 10_000)
    .option('--json', 'print {"ok", "version", "warnings", "error": {"code", "message"}} as JSON')
    .action(async (opts) => {
      const apiKey = opts.apiKey ?? cliEnvironment().gatewayApiKey ?? '';
      const fail = (message: string): never => {
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ ok: false, version: null, warnings: [], error: { code: 'USAGE', message } })}\n`,
          );
        else process.stderr.write(`portcullis gateway test: ${message}\n`);
        process.exit(2);
      };
      if (apiKey === '') fail('--api-key (or $PORTCULLIS_GATEWAY_API_KEY) is required');
      let tls: TlsTrust = { mode: 'system' };
      if (opts.insecure) tls = { mode: 'insecure' };
      else if (opts.fingerprint !== undefined) tls = { mode: 'fingerprint', sha256: opts.fingerprint };
      else if (opts.ca !== undefined) {
        try {
          tls = { mode: 'ca', caPem: readFileSync(opts.ca, 'utf8') };
        } catch (err) {
          fail(`cannot read --ca ${opts.ca}: ${(err as Error).message}`);
        }
      }
      const outcome = await testPfSense({ url: opts.url, apiKey, tls, timeoutMs: opts.timeoutMs });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(outcome)}\n`);
      } else if (outcome.ok && outcome.version) {
        process.stdout.write(`OK  pfSense ${outcome.version.product}, pfRest ${outcome.version.api}\n`);
      } else if (outcome.error) {
        process.stderr.write(`FAILED  ${outcome.error.message}\n`);
      }
      if (!opts.json) for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
      process.exitCode = outcome.ok ? 0 : 1;
    });
}
